-- People of other instances whose instance says they are a partner's guest
-- there ("ruche:guest" on their actor): shown with the guest badge here
-- too (accounts::remote).
CREATE TABLE remote_guests (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
