-- Resumable (tus 1.0) uploads in progress.  Any API instance may take the
-- next PATCH of an upload, so its whole state is here, none in a process:
-- the bytes received (upload_offset), the S3 multipart upload they go to
-- (s3_upload_id, NULL until the first full part) and each part's ETag.
-- Parts all have part_size bytes, so part n covers
-- [(n-1)*part_size, n*part_size); the bytes after the last whole part
-- (upload_offset % part_size of them) wait in a temporary object named
-- after the offset they end at, until they make a part.  The id is the
-- video's id once the last byte is in (completed_at set).
CREATE TABLE IF NOT EXISTS tus_uploads (
    id            uuid PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    upload_length bigint NOT NULL CHECK (upload_length > 0),
    upload_offset bigint NOT NULL DEFAULT 0
                  CHECK (upload_offset >= 0 AND upload_offset <= upload_length),
    part_size     bigint NOT NULL CHECK (part_size >= 5242880),
    title         text NOT NULL,
    is_public     boolean NOT NULL DEFAULT false,
    s3_upload_id  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    completed_at  timestamptz
);
CREATE INDEX IF NOT EXISTS tus_uploads_expires_idx ON tus_uploads (expires_at);

CREATE TABLE IF NOT EXISTS tus_parts (
    upload_id   uuid NOT NULL REFERENCES tus_uploads (id) ON DELETE CASCADE,
    part_number integer NOT NULL CHECK (part_number BETWEEN 1 AND 10000),
    etag        text NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);

-- Direct uploads to S3 (a presigned POST) not completed yet: the video's
-- id, its owner and fields until POST /api/videos/{id}/complete makes the
-- video, or the sweeper removes the row and any object after expires_at.
CREATE TABLE IF NOT EXISTS direct_uploads (
    id         uuid PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      text NOT NULL,
    is_public  boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS direct_uploads_expires_idx ON direct_uploads (expires_at);
