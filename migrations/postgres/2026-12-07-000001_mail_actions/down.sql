DROP TABLE mail_actions;
