ALTER TABLE scim_users DROP COLUMN disabled_by_scim;
