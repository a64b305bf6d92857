-- People the company's directory (LDAP sync, SCIM) said had left, and
-- when their profile was anonymised under accounts.leavers = "anonymise"
-- (accounts::leavers). Coming back removes the row.
CREATE TABLE leavers (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    left_at TIMESTAMP NOT NULL,
    anonymised_at TIMESTAMP
);
