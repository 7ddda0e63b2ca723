DROP TABLE dislikes;
