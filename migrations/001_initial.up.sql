-- Users (players and voters), their videos, and votes.
--
-- Emails are unique regardless of case; a user votes at most once per
-- video; a video's status moves uploaded -> processing -> processed|failed,
-- and `attempt` fences status updates so a stale worker cannot overwrite
-- the result of a newer attempt.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL,
    first_name    text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name     text NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    city          text NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    country       text NOT NULL CHECK (length(country) BETWEEN 1 AND 100),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_city_idx ON users (city);

CREATE TABLE videos (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    is_public      boolean NOT NULL DEFAULT false,
    status         text NOT NULL DEFAULT 'uploaded'
                   CHECK (status IN ('uploaded', 'processing', 'processed', 'failed')),
    attempt        integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    error_code     text,
    error_message  text,
    original_key   text NOT NULL,
    source_bytes   bigint CHECK (source_bytes >= 0),
    processed_key  text,
    poster_key     text,
    report         jsonb,
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    processed_at   timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'failed' OR error_code IS NOT NULL),
    CHECK (status <> 'processed' OR (processed_key IS NOT NULL AND processed_at IS NOT NULL))
);
CREATE INDEX videos_user_uploaded_idx ON videos (user_id, uploaded_at DESC);
-- the reconciler's scan: videos not yet finished
CREATE INDEX videos_unfinished_idx ON videos (updated_at)
    WHERE status IN ('uploaded', 'processing');
-- the public listing
CREATE INDEX videos_public_idx ON videos (processed_at DESC)
    WHERE is_public AND status = 'processed';

CREATE TABLE votes (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id   uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX votes_video_idx ON votes (video_id);
