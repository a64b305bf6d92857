DROP TABLE password_resets;
DROP TABLE mail_addresses;
DROP TABLE mail_queue;
