DROP TRIGGER IF EXISTS events_notified ON events;
DROP FUNCTION IF EXISTS event_notified();
