DROP TABLE directory_users;
