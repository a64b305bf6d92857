-- Whether the guest and their inviter were told that the access ends soon
-- (accounts::guest::remind_due); renewing clears it.
ALTER TABLE guests ADD COLUMN reminded BOOLEAN NOT NULL DEFAULT 0;
