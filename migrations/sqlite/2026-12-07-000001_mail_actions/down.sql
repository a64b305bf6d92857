DROP TABLE mail_received;
DROP TABLE mail_actions;
