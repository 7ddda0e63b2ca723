DROP TABLE instance_actor;
