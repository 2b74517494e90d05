// upload.js - the upload's transport: tus 1.0 at /api/uploads/ with
// tus-js-client (tus.min.js beside this module, the npm package's browser
// build copied unchanged; THIRD_PARTY.txt), so that a lost connection or
// a reload costs only the bytes that had not reached the server.
//
// tus-js-client keeps each unfinished upload's URL in localStorage under
// a fingerprint of the file (name, type, size, modification time) and
// the endpoint; choosing the same file again finds it, and the upload goes
// on from the offset the server reports (HEAD).  The whole rest of the
// file goes in one PATCH (no chunkSize): the API buffers one 5 MiB part
// whatever the PATCH's size and keeps the bytes of a PATCH cut short, so
// chunks would only add requests.
//
// previous({api, token, file}) resolves with the unfinished upload of
// this file, {title, offset, size}, or null.
// unfinished() lists the unfinished uploads this browser remembers,
// [{title, filename, size}], for the page to offer to continue them.
// upload({api, token, file, title, isPublic, onProgress, onState}) (api:
// the API's origin, "" for the page's own) returns {done, abort}: done
// resolves with {status, body}: 201 and {video_id} when the last byte is
// in (the upload's URL ends with the video's id), else the API's refusal
// (any status, its JSON body); it rejects with Error("aborted") after
// abort() (which also ends the upload on the server: tus termination) or
// Error("network") when tus-js-client cannot be loaded.
// onProgress({loaded, total, resumedAt}) is called as bytes leave (loaded
// counts the bytes the server had before: resumedAt of them);
// onState("offline" | "online") when the server cannot be reached (the
// upload goes on by itself when it can) and when bytes flow again.

const PREFIX = "tus::";
// after a failed request (a network error, 409, 423 or 5xx), retry at
// once, then after 1, 3, 5, 10 and 20 s; past those, or while the browser
// says it is offline (tus-js-client then does not retry), the upload waits
// for the "online" event or AGAIN_MS, and goes on: a lost connection ends
// nothing, only a refusal of the API or the player's cancel does
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000];
const AGAIN_MS = 20000;

let loading = null;

// tus-js-client, loaded once, the first time an upload needs it.
function library() {
  if (window.tus) return Promise.resolve(window.tus);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = new URL("tus.min.js", import.meta.url).href;
      s.onload = () => resolve(window.tus);
      s.onerror = () => { loading = null; s.remove(); reject(new Error("network")); };
      document.head.append(s);
    });
  }
  return loading;
}

function endpoint(api) { return (api || location.origin) + "/api/uploads/"; }

function options(api, token, extra) {
  return {
    endpoint: endpoint(api),
    headers: { Authorization: "Bearer " + token },
    retryDelays: RETRY_DELAYS,
    removeFingerprintOnSuccess: true,
    ...extra,
  };
}

// The unfinished upload of file that the server still has, or null.
async function find(tus, api, token, file) {
  const up = new tus.Upload(file, options(api, token, {}));
  const found = await up.findPreviousUploads();
  for (const p of found) {
    let r;
    try {
      r = await fetch(p.uploadUrl, { method: "HEAD", headers: { Authorization: "Bearer " + token, "Tus-Resumable": "1.0.0" } });
    } catch {
      return null;	// unreachable now: tus-js-client decides at the upload
    }
    const offset = Number(r.headers.get("Upload-Offset"));
    if (r.ok && Number.isFinite(offset)) return { up: p, offset, size: p.size, title: (p.metadata || {}).title || "" };
    // expired, finished or not this player's: forget it
    tus.defaultOptions.urlStorage.removeUpload(p.urlStorageKey);
  }
  return null;
}

export async function previous({ api, token, file }) {
  const tus = await library();
  const p = await find(tus, api, token, file);
  return p && { title: p.title, offset: p.offset, size: p.size };
}

export function unfinished() {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key.startsWith(PREFIX)) continue;
    try {
      const u = JSON.parse(localStorage.getItem(key));
      out.push({ title: (u.metadata || {}).title || "", filename: (u.metadata || {}).filename || "", size: u.size });
    } catch { /* not one of tus-js-client's */ }
  }
  return out;
}

// The API's answer inside a tus-js-client error, or null for a network one.
function answer(err) {
  const res = err && err.originalResponse;
  if (!res || !res.getStatus()) return null;
  let body = null;
  try { body = JSON.parse(res.getBody()); } catch { body = null; }
  return { status: res.getStatus(), body };
}

export function upload({ api, token, file, title, isPublic, onProgress, onState }) {
  let up = null;
  let aborted = false;
  let waiting = null;	// the "online" listener while offline
  let timer = null;
  let offline = false;
  let resumedAt = 0;
  let settle;
  const done = new Promise((resolve, reject) => { settle = { resolve, reject }; });

  const stopWaiting = () => {
    if (waiting) window.removeEventListener("online", waiting);
    clearTimeout(timer);
    waiting = null;
  };
  const lost = () => { if (!offline) { offline = true; onState("offline"); } };
  const finish = (fn, value) => { stopWaiting(); if (!aborted) fn(value); };

  (async () => {
    const tus = await library();
    up = new tus.Upload(file, options(api, token, {
      metadata: { title, is_public: isPublic ? "true" : "false", filename: file.name },
      onShouldRetry: (err, attempt, opts) => {
        if (!answer(err)) lost();
        return tus.defaultOptions.onShouldRetry(err, attempt, opts);
      },
      onProgress: (loaded, total) => {
        if (offline) { offline = false; onState("online"); }
        onProgress({ loaded, total, resumedAt });
      },
      onAfterResponse: (req, res) => {
        // where the server says the upload stands (HEAD, after a cut)
        if (req.getMethod() === "HEAD") resumedAt = Number(res.getHeader("Upload-Offset")) || 0;
      },
      onSuccess: () => finish(settle.resolve, { status: 201, body: { video_id: up.url.split("/").pop() } }),
      onError: (err) => {
        const a = answer(err);
        if (a) { finish(settle.resolve, a); return; }
        // the connection is lost: go on from the server's offset once back
        lost();
        waiting = () => { stopWaiting(); if (!aborted) up.start(); };
        window.addEventListener("online", waiting);
        timer = setTimeout(waiting, AGAIN_MS);
      },
    }));
    const p = await find(tus, api, token, file);
    if (p) { resumedAt = p.offset; up.resumeFromPreviousUpload(p.up); }
    if (!aborted) up.start();
  })().catch(() => finish(settle.reject, new Error("network")));

  return {
    done,
    abort: () => {
      if (aborted) return;
      aborted = true;
      stopWaiting();
      settle.reject(new Error("aborted"));
      if (!up) return;
      // forget it here at once (tus-js-client would only after the
      // DELETE, which may wait for the cut PATCH's lock: the same file
      // sent again must start a new upload), and end it on the server
      forget(up);
      up.abort(true).catch(() => {});
    },
  };
}

// Remove an upload from tus-js-client's storage.
async function forget(up) {
  const storage = up.options.urlStorage;
  const fp = await up.options.fingerprint(up.file, up.options);
  for (const u of await storage.findUploadsByFingerprint(fp)) {
    if (u.uploadUrl === up.url) await storage.removeUpload(u.urlStorageKey);
  }
}
