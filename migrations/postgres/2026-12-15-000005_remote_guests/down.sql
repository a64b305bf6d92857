DROP TABLE remote_guests;
