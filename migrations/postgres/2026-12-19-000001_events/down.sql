DROP TABLE calendar_feeds;
DROP TABLE event_rsvps;
DROP TABLE event_details;
