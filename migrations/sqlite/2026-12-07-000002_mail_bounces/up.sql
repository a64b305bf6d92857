-- Delivery failures per address: the secret of the address's bounce
-- address (the envelope sender of what Ruche writes to it, when replies by
-- e-mail are on), how many delivery failures came back, and since when it
-- is treated as failing (nothing but password links is sent to it then).
ALTER TABLE mail_addresses ADD COLUMN bounce_token TEXT;
ALTER TABLE mail_addresses ADD COLUMN bounces INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mail_addresses ADD COLUMN failing_at TIMESTAMP;
CREATE UNIQUE INDEX mail_addresses_bounce ON mail_addresses (bounce_token);
