DROP TABLE remote_endorsements;
