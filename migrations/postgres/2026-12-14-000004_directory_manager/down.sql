DROP INDEX directory_users_manager;
DROP INDEX directory_users_dn_key;
ALTER TABLE directory_users DROP COLUMN dn_key;
ALTER TABLE directory_users DROP COLUMN manager_dn;
