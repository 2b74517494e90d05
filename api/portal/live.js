// live.js - live status of the player's videos from the events stream
// (GET /api/videos/events, Server-Sent Events).  An EventSource cannot
// send a token, so each connection starts with a one-use ticket; when the
// stream drops, a new ticket is fetched and the stream resumes after the
// last event seen (last_event_id).  Fallback, when no stream can be
// opened: onPoll() every POLL_MS (the caller reloads the list).
import { API, call } from "./api.js";

const POLL_MS = 5000;
const RETRY_MS = 2000;

export function follow({ onStatus, onProgress, onMode, onPoll }) {
  let es = null, timer = null, stopped = false, last = null, failures = 0;

  const poll = () => {
    onMode("poll");
    clearTimeout(timer);
    timer = setTimeout(function tick() {
      if (stopped) return;
      onPoll();
      timer = setTimeout(tick, POLL_MS);
    }, POLL_MS);
  };

  const open = async () => {
    if (stopped) return;
    const r = await call("POST", "/api/videos/events/ticket");
    if (stopped) return;
    if (r.status !== 200 || !r.body || !r.body.ticket) {
      if (++failures >= 3) return poll();
      timer = setTimeout(open, RETRY_MS);
      return;
    }
    let url = API + "/api/videos/events?ticket=" + encodeURIComponent(r.body.ticket);
    if (last !== null) url += "&last_event_id=" + encodeURIComponent(last);
    es = new EventSource(url);
    es.onopen = () => { failures = 0; onMode("live"); };
    es.addEventListener("status", (e) => {
      if (e.lastEventId) last = e.lastEventId;
      try { onStatus(JSON.parse(e.data)); } catch { /* not ours */ }
    });
    es.addEventListener("progress", (e) => {
      try { onProgress(JSON.parse(e.data)); } catch { /* not ours */ }
    });
    es.onerror = () => {
      // the ticket is spent: a reconnection needs a new one
      es.close();
      es = null;
      if (stopped) return;
      if (++failures >= 3) return poll();
      onPoll();	// catch up with what happened while away
      timer = setTimeout(open, RETRY_MS);
    };
  };

  open();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (es) es.close();
    },
  };
}
