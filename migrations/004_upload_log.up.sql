-- The upload quota per day counts uploads, not the videos that remain: a
-- player who deletes a video has still uploaded it.  Every row inserted
-- into videos is logged here by a trigger (whatever inserts it), and the
-- log has no tie to the video, so deleting one leaves its entry.  Entries
-- older than a day count for nothing; the API prunes a player's when it
-- logs the next upload.
CREATE TABLE IF NOT EXISTS upload_log (
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id    uuid NOT NULL,
    uploaded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS upload_log_user_idx ON upload_log (user_id, uploaded_at);

CREATE OR REPLACE FUNCTION upload_logged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO upload_log (user_id, video_id, uploaded_at)
        VALUES (NEW.user_id, NEW.id, NEW.uploaded_at);
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS videos_upload_logged ON videos;
CREATE TRIGGER videos_upload_logged AFTER INSERT ON videos
    FOR EACH ROW EXECUTE FUNCTION upload_logged();

-- the last day's uploads so far
INSERT INTO upload_log (user_id, video_id, uploaded_at)
    SELECT user_id, id, uploaded_at FROM videos
    WHERE uploaded_at > now() - interval '1 day';
