-- Passkeys (accounts::passkey, WebAuthn with webauthn-rs): the credential
-- as webauthn-rs keeps it (JSON, with its public key and counter), keyed by
-- its id (base64url), with the user handle the authenticator stores (one
-- random handle per account, the same for all its passkeys).
CREATE TABLE passkeys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_handle TEXT NOT NULL,
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
CREATE INDEX passkeys_user ON passkeys (user_id);
CREATE INDEX passkeys_handle ON passkeys (user_handle);
-- A passkey ceremony under way (adding one, signing in, or the second step
-- of a password sign-in): the state webauthn-rs must find again (its
-- challenge), under the digest of the token the page holds, for 5 minutes,
-- used once. The address bounds how many one browser may leave waiting.
CREATE TABLE passkey_ceremonies (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX passkey_ceremonies_ip ON passkey_ceremonies (ip, created_at);
