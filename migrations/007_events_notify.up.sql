-- Live status: each event wakes the API instances that stream to its
-- player (GET /api/videos/events).  pg_notify is delivered at commit, and
-- only if the transaction commits; the payload is the player's id, and the
-- listeners read the events themselves (a notification carries no data
-- that could be lost or reordered).
CREATE OR REPLACE FUNCTION event_notified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('showcase_events', NEW.user_id::text);
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS events_notified ON events;
CREATE TRIGGER events_notified AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION event_notified();
