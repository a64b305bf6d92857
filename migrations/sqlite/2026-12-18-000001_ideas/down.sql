DROP TABLE ideas;
