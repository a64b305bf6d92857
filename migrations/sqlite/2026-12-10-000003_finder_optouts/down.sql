DROP TABLE finder_optouts;
