-- Two-step sign-in for local passwords (accounts::second_factor): the
-- secret an authenticator app shares (turned on once a code from it was
-- typed), the last time step used (a code is used once), and single-use
-- recovery codes (stored as digests).
CREATE TABLE second_factors (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    enabled_at TIMESTAMP,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE recovery_codes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
-- A password sign-in waiting for its second step: the digest of the
-- browser's cookie, for 10 minutes.
CREATE TABLE login_steps (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    next TEXT NOT NULL DEFAULT '/',
    created_at TIMESTAMP NOT NULL
);
