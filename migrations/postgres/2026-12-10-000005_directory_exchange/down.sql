DROP TABLE directory_hidden;
DROP TABLE directory_optouts;
