CREATE INDEX IF NOT EXISTS videos_unfinished_idx ON videos (updated_at)
    WHERE status IN ('uploaded', 'processing');
DROP INDEX IF EXISTS videos_unfinished_keyset_idx;
