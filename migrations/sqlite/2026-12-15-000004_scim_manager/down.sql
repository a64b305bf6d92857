DROP INDEX scim_users_manager;
ALTER TABLE scim_users DROP COLUMN manager_id;
