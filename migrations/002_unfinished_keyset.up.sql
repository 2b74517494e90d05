-- The reconciler walks unfinished videos in (uploaded_at, id) order with a
-- keyset cursor, and the stuck-video figures count them by uploaded_at:
-- one partial index serves both.  The old one (on updated_at) served a
-- scan that took the oldest 1,000 rows each time, whatever their state.
CREATE INDEX IF NOT EXISTS videos_unfinished_keyset_idx ON videos (uploaded_at, id)
    WHERE status IN ('uploaded', 'processing');
DROP INDEX IF EXISTS videos_unfinished_idx;
