-- Events (content::event): a content row of kind 'event' and what it
-- adds. Times are UTC; time_zone is the IANA name the organiser chose,
-- in which they are shown. For an event of another instance, going,
-- maybe and waiting are the counts its instance last published; for ours
-- they are counted here from event_rsvps.
CREATE TABLE event_details (
    content_id BIGINT PRIMARY KEY NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    time_zone TEXT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    online_url TEXT NOT NULL DEFAULT '',
    -- Places for people going; NULL: no limit.
    capacity BIGINT,
    -- Whether those who want to go once it is full wait for a place.
    waiting_list BOOLEAN NOT NULL DEFAULT TRUE,
    going BIGINT NOT NULL DEFAULT 0,
    maybe BIGINT NOT NULL DEFAULT 0,
    waiting BIGINT NOT NULL DEFAULT 0,
    -- When the people of this site who answered were reminded of it.
    reminded_at TIMESTAMP,
    -- An event of another instance answered with Join and Leave (as
    -- Mobilizon reads answers), not Accept, TentativeAccept and Reject.
    joins BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX event_details_start ON event_details (starts_at);
-- One answer per person: going, maybe or declined; waiting: going, on
-- the waiting list. ap_id: the activity an answer of another instance
-- came as, or that ours was sent as.
CREATE TABLE event_rsvps (
    content_id BIGINT NOT NULL REFERENCES event_details (content_id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    answer TEXT NOT NULL,
    waiting BOOLEAN NOT NULL DEFAULT FALSE,
    ap_id TEXT,
    answered_at TIMESTAMP NOT NULL,
    PRIMARY KEY (content_id, user_id)
);
CREATE INDEX event_rsvps_user ON event_rsvps (user_id, answer);
CREATE INDEX event_rsvps_waiting ON event_rsvps (content_id, waiting, answered_at);
-- A person's private calendar subscription: the digest of the secret in
-- its address (shown once, when made or made anew).
CREATE TABLE calendar_feeds (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
