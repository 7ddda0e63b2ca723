DROP TABLE alumni_audiences;
DROP TABLE alumni_tenures;
DROP TABLE alumni_tags;
DROP TABLE alumni_profiles;
