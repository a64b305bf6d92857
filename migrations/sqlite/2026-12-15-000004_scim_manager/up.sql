-- Whom a person pushed over SCIM reports to (the enterprise extension's
-- manager): the account of another user of the same client.
ALTER TABLE scim_users ADD COLUMN manager_id BIGINT;
CREATE INDEX scim_users_manager ON scim_users (manager_id);
