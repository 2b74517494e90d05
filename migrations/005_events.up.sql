-- Events (the outbox): every state change of a video is recorded as an
-- event row by the triggers below, in the transaction that makes the
-- change, fenced updates included: nothing that did not commit is
-- recorded, nothing that committed is missed.  Each video carries a
-- version, raised with each change of its status, so that consumers can
-- apply "latest wins"; a deletion is the version after the last.
--
-- Webhook endpoints subscribe to event types; each event fans out into a
-- delivery row per endpoint (same transaction), which dispatchers claim
-- with FOR UPDATE SKIP LOCKED: no cursor over ids, which commit out of
-- order.
ALTER TABLE videos ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS events (
    id         bigserial PRIMARY KEY,
    video_id   uuid NOT NULL,
    user_id    bigint NOT NULL,
    type       text NOT NULL CHECK (type IN ('video.uploaded', 'video.processing',
                   'video.processed', 'video.failed', 'video.deleted')),
    version    integer NOT NULL CHECK (version >= 1),
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (video_id, version)
);
-- retention, and a player's events in order (live status)
CREATE INDEX IF NOT EXISTS events_created_idx ON events (created_at);
CREATE INDEX IF NOT EXISTS events_user_idx ON events (user_id, id);

CREATE OR REPLACE FUNCTION video_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        NEW.version := OLD.version + 1;
    ELSE
        NEW.version := OLD.version;
    END IF;
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS videos_versioned ON videos;
CREATE TRIGGER videos_versioned BEFORE INSERT OR UPDATE ON videos
    FOR EACH ROW EXECUTE FUNCTION video_versioned();

CREATE OR REPLACE FUNCTION video_evented() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v videos;
    kind text;
    ver integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v := OLD;
        kind := 'video.deleted';
        ver := OLD.version + 1;
    ELSIF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NULL;
    ELSE
        v := NEW;
        kind := 'video.' || NEW.status;
        ver := NEW.version;
    END IF;
    INSERT INTO events (video_id, user_id, type, version, data)
    VALUES (v.id, v.user_id, kind, ver, jsonb_build_object(
        'video_id', v.id, 'user_id', v.user_id, 'title', v.title,
        'status', CASE WHEN TG_OP = 'DELETE' THEN 'deleted' ELSE v.status END,
        'version', ver, 'attempt', v.attempt, 'is_public', v.is_public,
        'error_code', v.error_code, 'error_message', v.error_message,
        'uploaded_at', v.uploaded_at, 'processed_at', v.processed_at));
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS videos_evented ON videos;
CREATE TRIGGER videos_evented AFTER INSERT OR UPDATE OF status OR DELETE ON videos
    FOR EACH ROW EXECUTE FUNCTION video_evented();

CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id              bigserial PRIMARY KEY,
    url             text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    secret          text NOT NULL CHECK (secret LIKE 'whsec_%'),
    event_types     text[]                  -- NULL: every type
                    CHECK (event_types <@ ARRAY['video.uploaded', 'video.processing',
                        'video.processed', 'video.failed', 'video.deleted']),
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    event_id     bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    endpoint_id  bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL DEFAULT now(),
    last_status  integer,
    last_error   text,
    delivered_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, endpoint_id)
);
-- what is due, for the dispatchers
CREATE INDEX IF NOT EXISTS webhook_deliveries_due_idx ON webhook_deliveries (next_at)
    WHERE state = 'pending';
-- an endpoint's deliveries: its counts, and the cascade when it is removed
CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id);

CREATE OR REPLACE FUNCTION event_fanned_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (event_id, endpoint_id)
        SELECT NEW.id, e.id FROM webhook_endpoints e
        WHERE e.enabled AND (e.event_types IS NULL OR NEW.type = ANY (e.event_types));
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS events_fanned_out ON events;
CREATE TRIGGER events_fanned_out AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION event_fanned_out();
