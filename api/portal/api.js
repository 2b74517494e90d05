// api.js - the public API as the portal calls it.  The token lives in
// sessionStorage (this tab only, gone when it closes; never a cookie, so
// no other site can send it).
const KEY = "showcase.token";
const ME = "showcase.user_id";

// The API's origin: the page's own, unless index.html names another in
// <meta name="showcase-api" content="https://api.example.org"> (a portal
// served from a CDN; the API then allows its origin by API_CORS_ORIGINS).
export const API = (document.querySelector('meta[name="showcase-api"]')?.content || "").replace(/\/$/, "");

export function token() { return sessionStorage.getItem(KEY); }

export function setToken(tok, id) {
  if (tok) {
    sessionStorage.setItem(KEY, tok);
    sessionStorage.setItem(ME, String(id));
  } else {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ME);
  }
}

// The player's id, as GET /api/me gave it at login (the portal reads it to
// tell its own videos; the API checks the token itself).  Not the token's
// "sub": an identity provider's token names its own subject there, not
// this service's player.  null when signed out or the token has expired.
export function userId() {
  const tok = token();
  const id = sessionStorage.getItem(ME);
  if (!tok || id === null || !/^[0-9]+$/.test(id)) return null;
  try {
    const part = tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part));
    if (claims.exp && claims.exp * 1000 < Date.now()) return null;
  } catch {
    return null;
  }
  return Number(id);
}

// {status, body, retryAfter}; status 0 when the server cannot be reached.
// A 401 on a call that sent a token ends the session.
export async function call(method, path, body) {
  const headers = {};
  const tok = token();
  if (tok) headers.Authorization = "Bearer " + tok;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    return { status: 0, body: null };
  }
  let data = null;
  try { data = await resp.json(); } catch { data = null; }
  if (resp.status === 401 && tok) {
    setToken(null);
    window.dispatchEvent(new Event("showcase:signed-out"));
  }
  return { status: resp.status, body: data, retryAfter: resp.headers.get("Retry-After") };
}
