DROP TABLE mail_locales;
DROP TABLE mail_preferences;
