-- What each person wants by e-mail, per kind of notification ("now" or
-- "never"; no row: the default of the kind), and the language their
-- browser last asked for, for the e-mails of people who chose none.
CREATE TABLE mail_preferences (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    mode TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
CREATE TABLE mail_locales (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    locale TEXT NOT NULL
);
