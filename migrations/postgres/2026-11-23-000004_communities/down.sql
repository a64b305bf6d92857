ALTER TABLE deliveries DROP COLUMN community_id;
ALTER TABLE notifications DROP COLUMN community_id;
DROP INDEX content_community;
ALTER TABLE content DROP COLUMN pinned_at;
ALTER TABLE content DROP COLUMN community_id;
DROP TABLE moderation_log;
DROP TABLE community_members;
DROP TABLE communities;
ALTER TABLE users DROP COLUMN actor_type;
