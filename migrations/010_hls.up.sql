-- HLS: a processed video's playlists (worker/pipeline/hls.h), written by
-- the fenced update that makes the attempt's outputs current.  NULL: the
-- video has no HLS (processed before HLS, or with HLS_LADDER=off).
--   {"prefix": "processed/<id>/hls/<attempt>/",   the objects' keys
--    "master": "<master.m3u8>",
--    "media": {"720p": "<720p.m3u8>", "360p": "<360p.m3u8>", ...}}
-- The API answers the playlists from here, with each media playlist's
-- file replaced by a presigned URL of "<prefix><name>.m4s".
ALTER TABLE videos ADD COLUMN IF NOT EXISTS hls jsonb;
