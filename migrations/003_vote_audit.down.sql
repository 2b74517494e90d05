DROP TABLE IF EXISTS votes_voided;
CREATE INDEX IF NOT EXISTS votes_video_idx ON votes (video_id);
DROP INDEX IF EXISTS votes_video_created_idx;
DROP INDEX IF EXISTS votes_created_idx;
ALTER TABLE votes DROP COLUMN IF EXISTS agent_hash;
ALTER TABLE votes DROP COLUMN IF EXISTS network_hash;
