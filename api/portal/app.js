// app.js - the portal's pages (hash routes, one view shown at a time),
// all through the public API.  No framework: the DOM is built with
// createElement and textContent, never from HTML strings.
import { API, call, token, setToken, userId } from "./api.js";
import { t, apply, set as setLang, current as currentLang, reason, fieldReason } from "./i18n.js";
import { follow } from "./live.js";
import { play, stop } from "./play.js";
import { RULES, check } from "./rules.js";
import { upload, previous, unfinished } from "./upload.js";

const $ = (id) => document.getElementById(id);
const PAGE = 12;
const RANK_PAGE = 10;

const state = {
  mine: new Map(),        // video_id -> video (GET /api/videos)
  progress: new Map(),    // video_id -> percent (events stream)
  live: null,             // follow() handle while signed in
  liveMode: null,         // "live" or "poll"
  galleryPage: 1,
  rankPage: 1,
  rankCity: "",
  sending: null,          // the upload in flight: {abort}
  message: "",            // to show on the next page (go())
  file: null,             // the file chosen, checked
  fileProblems: [],
};

// --- small helpers ---------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

// Go to a page, with a message to show there.
function go(hash, message) {
  state.message = message || "";
  if (location.hash !== hash) { location.hash = hash; return; }
  notice(state.message);
  state.message = "";
  route(false);
}

function notice(text) {
  const n = $("notice");
  n.textContent = text;
  n.hidden = !text;
}

function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(currentLang() === "es" ? "es-CO" : "en", { dateStyle: "medium", timeStyle: "short" });
}

function size(bytes) {
  if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
  return Math.max(1, Math.round(bytes / 1024)) + " KB";
}

function duration(s) {
  if (!isFinite(s)) return "…";
  s = Math.max(0, Math.round(s));
  return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
}

// A failed call's message for a person.
function failure(r) {
  if (r.status === 0) return t("network");
  if (r.status === 429) return t("rate_limited", { s: r.retryAfter || "60" });
  if (r.status === 401) return t("login_needed");
  return t("server_error", { code: (r.body && r.body.error) || r.status });
}

// A log-in's or sign-up's failure: both answer 404 when the API takes no
// passwords (API_LOCAL_ACCOUNTS=0, its players from an identity provider).
function accountFailure(r) { return r.status === 404 ? t("passwords_off") : failure(r); }

// Field-by-field errors of a form: fields maps a field's name to a reason.
function fieldErrors(prefix, fields) {
  let first = null;
  for (const [name, why] of Object.entries(fields)) {
    const input = $(prefix + name);
    const out = $(prefix + name + "-err");
    if (!input || !out) continue;
    out.textContent = why;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", out.id);
    first = first || input;
  }
  if (first) first.focus();
  return first !== null;
}

function clearErrors(form) {
  for (const e of form.querySelectorAll(".err")) e.textContent = "";
  for (const e of form.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
}

// The API's reasons for its invalid_fields, in the page's language.
function apiReasons(fields) {
  const out = {};
  for (const [k, v] of Object.entries(fields || {})) out[k] = fieldReason(v);
  return out;
}

// --- session ---------------------------------------------------------

function signedIn() { return userId() !== null; }

function sessionChanged() {
  document.body.classList.toggle("signed-in", signedIn());
  if (signedIn() && !state.live) {
    state.live = follow({
      onStatus: liveStatus,
      onProgress: (p) => { state.progress.set(p.video_id, p.percent); renderMine(); },
      onMode: (m) => { state.liveMode = m; liveLine(); },
      onPoll: () => { if (visible("mine")) loadMine(); },
    });
  } else if (!signedIn() && state.live) {
    state.live.stop();
    state.live = null;
    state.mine.clear();
  }
}

// --- routing ---------------------------------------------------------

const views = ["login", "signup", "upload", "mine", "watch", "gallery", "rankings"];
const needsLogin = new Set(["upload", "mine"]);

function visible(name) { return !$("view-" + name).hidden; }

function route(focus) {
  const [, name = "gallery", arg = ""] = location.hash.match(/^#\/([a-z]+)\/?(.*)$/) || [];
  let view = views.includes(name) ? name : "gallery";
  if (needsLogin.has(view) && !signedIn()) {
    notice(t("login_needed"));
    view = "login";
  }
  if (view !== "watch") stop($("player"));
  for (const v of views) $("view-" + v).hidden = v !== view;
  for (const a of document.querySelectorAll(".nav a")) {
    if (a.getAttribute("href") === "#/" + view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const h = $("view-" + view).querySelector("h2");
  h.tabIndex = -1;
  if (focus) h.focus();
  const load = { mine: loadMine, gallery: loadGallery, rankings: loadRankings, watch: () => loadWatch(arg), upload: showRules };
  if (load[view]) load[view]();
}

// --- log in, sign up ------------------------------------------------

async function onLogin(e) {
  e.preventDefault();
  const form = e.target;
  clearErrors(form);
  const email = $("login-email").value.trim();
  const password = $("login-password").value;
  const missing = {};
  if (!email) missing.email = t("required");
  if (!password) missing.password = t("required");
  if (fieldErrors("login-", missing)) return;
  const r = await call("POST", "/api/auth/login", { email, password });
  if (r.status === 200 && r.body && r.body.access_token) {
    // who this token is: the player's id from the API, not read from the
    // token (see api.js userId)
    const me = await fetch(API + "/api/me", { headers: { Authorization: "Bearer " + r.body.access_token } })
      .then((resp) => (resp.ok ? resp.json() : null)).catch(() => null);
    if (!me || !Number.isInteger(me.user_id)) { $("login-err").textContent = accountFailure({ status: 0 }); return; }
    setToken(r.body.access_token, me.user_id);
    form.reset();
    sessionChanged();
    go("#/mine", t("logged_in"));
    return;
  }
  if (r.status === 400 && r.body && r.body.fields) fieldErrors("login-", apiReasons(r.body.fields));
  else $("login-err").textContent = r.status === 401 ? t("login_failed") : accountFailure(r);
}

async function onSignup(e) {
  e.preventDefault();
  const form = e.target;
  clearErrors(form);
  const body = {};
  const missing = {};
  for (const name of ["first_name", "last_name", "email", "password1", "password2", "city", "country"]) {
    body[name] = name.startsWith("password") ? $("su-" + name).value : $("su-" + name).value.trim();
    if (!body[name]) missing[name] = t("required");
  }
  if (!missing.password2 && body.password1 !== body.password2) missing.password2 = t("passwords_differ");
  if (fieldErrors("su-", missing)) return;
  const r = await call("POST", "/api/auth/signup", body);
  if (r.status === 201) {
    form.reset();
    $("login-email").value = body.email;
    go("#/login", t("signed_up"));
    return;
  }
  const err = r.body && r.body.error;
  if (err === "invalid_fields" && r.body.fields) fieldErrors("su-", apiReasons(r.body.fields));
  else if (err === "email_taken") fieldErrors("su-", { email: t("email_taken") });
  else $("signup-err").textContent = accountFailure(r);
}

// --- upload ----------------------------------------------------------

function showRules() {
  $("upload-rules").textContent = t("upload_rules", {
    mb: RULES.maxMB, min: RULES.minSeconds, max: RULES.maxSeconds, side: RULES.minShortSide, trim: RULES.trimSeconds,
  });
  // uploads a reload or a closed tab left unfinished, that the same file continues
  const left = state.sending ? [] : unfinished();
  $("up-unfinished").textContent = left.map((u) => t("upload_unfinished", { title: u.title, file: u.filename, size: size(u.size) })).join(" ");
  $("up-unfinished").hidden = !left.length;
}

function sendLabel(resuming) {
  $("up-send").textContent = resuming ? t("upload_resume") : t("upload_submit");
}

async function chooseFile(file) {
  const err = $("up-file-err"), info = $("up-file-info");
  state.file = null;
  state.fileProblems = [];
  err.textContent = "";
  info.textContent = file ? t("checking") : "";
  $("up-file").removeAttribute("aria-invalid");
  if (!file) return;
  const { problems, info: i } = await check(file);
  state.file = file;
  state.fileProblems = problems;
  info.textContent = i.w ? t("file_info", i) : i.name;
  if (problems.length) {
    err.textContent = problems.map(([k, v]) => t(k, v)).join(" ");
    $("up-file").setAttribute("aria-invalid", "true");
  }
  if (!$("up-title").value) $("up-title").value = file.name.replace(/\.[^.]+$/, "");
  sendLabel(false);
  if (problems.length) return;
  // the same file's unfinished upload: offer to go on from where it stopped
  let p = null;
  try { p = await previous({ api: API, token: token(), file }); } catch { p = null; }
  if (!p || state.file !== file) return;
  info.textContent += " · " + t("upload_resumable", { pct: Math.floor((p.offset * 100) / p.size) });
  if (p.title) $("up-title").value = p.title;
  sendLabel(true);
}

// mark: {b, t}, the bytes sent and the time when this run of the upload
// began (a resumed upload starts with the server's offset)
function showProgress(loaded, total, mark) {
  const pct = total ? Math.floor((loaded * 100) / total) : 0;
  const secs = (performance.now() - mark.t) / 1000;
  const speed = secs > 0 ? (loaded - mark.b) / secs : 0;
  $("up-bar").value = pct;
  $("up-bar").setAttribute("aria-valuetext", pct + "%");
  $("up-stats").textContent = loaded >= total ? t("progress_done")
    : t("progress_stats", { pct, speed: size(speed), left: duration(speed ? (total - loaded) / speed : Infinity) });
}

function uploading(on) {
  $("up-send").disabled = on;
  $("up-cancel").hidden = !on;
  $("up-file").disabled = on;
  $("up-progress").hidden = !on && $("up-bar").value === 0;
}

async function onUpload(e) {
  e.preventDefault();
  const form = e.target;
  clearErrors(form);
  if (state.fileProblems.length) {
    $("up-file-err").textContent = state.fileProblems.map(([k, v]) => t(k, v)).join(" ");
    $("up-file").focus();
    return;
  }
  const title = $("up-title").value.trim();
  const missing = {};
  if (!state.file) missing.file = t("no_file");
  if (!title) missing.title = t("no_title");
  // the API counts a title's bytes of UTF-8 (200), the field's maxlength
  // its characters: "ñ" is two bytes
  else if (new TextEncoder().encode(title).length > 200) missing.title = t("f_title_too_long");
  if (fieldErrors("up-", missing)) return;
  $("up-bar").value = 0;
  $("up-progress").hidden = false;
  $("up-stats").textContent = "";
  $("up-net").textContent = "";
  uploading(true);
  let mark = null;
  const job = upload({
    api: API, token: token(), file: state.file, title, isPublic: $("up-public").checked,
    onProgress: ({ loaded, total }) => {
      if (!mark || loaded < mark.b) mark = { b: loaded, t: performance.now() };
      showProgress(loaded, total, mark);
    },
    onState: (s) => {
      mark = null;
      $("up-net").textContent = s === "offline" ? t("upload_offline", { pct: $("up-bar").value }) : t("upload_online");
      $("up-progress").dataset.net = s;
    },
  });
  state.sending = job;
  let r;
  try {
    r = await job.done;
  } catch (x) {
    r = { status: 0, aborted: x.message === "aborted" };
  }
  state.sending = null;
  uploading(false);
  $("up-net").textContent = "";
  if (r.status === 201) {
    form.reset();
    $("up-public").checked = true;
    $("up-file-info").textContent = "";
    $("up-progress").hidden = true;
    $("up-bar").value = 0;
    state.file = null;
    sendLabel(false);
    go("#/mine", t("uploaded", { title }));
    return;
  }
  $("up-progress").hidden = true;
  $("up-bar").value = 0;
  if (r.aborted) { $("upload-err").textContent = t("cancelled"); sendLabel(false); return; }
  const body = r.body || {};
  if (body.error === "invalid_fields" && body.fields) {
    const f = apiReasons(body.fields);
    if (f.video_file) { f.file = f.video_file; delete f.video_file; }
    fieldErrors("up-", f);
  } else if (r.status === 401) {
    $("upload-err").textContent = t("login_needed");
  } else {
    $("upload-err").textContent = r.status && body.message ? body.message : failure(r);
  }
}

// --- my videos ------------------------------------------------------

function liveLine() {
  $("live-state").textContent = state.liveMode === "live" ? t("live_on") : state.liveMode === "poll" ? t("live_poll") : "";
}

async function loadMine() {
  const r = await call("GET", "/api/videos?limit=100");
  if (r.status !== 200) { notice(failure(r)); return; }
  state.mine = new Map(r.body.map((v) => [v.video_id, v]));
  renderMine();
}

async function refreshVideo(id) {
  const r = await call("GET", "/api/videos/" + encodeURIComponent(id));
  if (r.status === 200) state.mine.set(id, r.body);
  else if (r.status === 404) state.mine.delete(id);
  renderMine();
}

function liveStatus(ev) {
  if (ev.status === "deleted") {	// here or in another tab
    state.mine.delete(ev.video_id);
    renderMine();
    return;
  }
  const v = state.mine.get(ev.video_id);
  if (!v) { if (visible("mine")) loadMine(); return; }
  v.status = ev.status;
  if (ev.status === "processed" || ev.status === "failed") refreshVideo(ev.video_id);
  else renderMine();
}

function card(v) {
  const pct = state.progress.get(v.video_id) ?? v.progress ?? 0;
  const li = el("li", { class: "card", "data-video-id": v.video_id, "data-status": v.status });
  if (v.poster_url) li.append(el("img", { class: "poster", src: v.poster_url, alt: t("poster_of", { title: v.title }) }));
  const body = el("div", { class: "body" });
  body.append(el("h3", { text: v.title }));
  body.append(el("p", { class: "status status-" + v.status, text: t("status_" + v.status) }));
  if (v.status === "processing" || v.status === "uploaded") {
    const bar = el("progress", { max: "100", value: String(pct), "aria-label": t("processing_pct", { pct }) });
    body.append(bar, el("p", { class: "hint", text: t("processing_pct", { pct }) }));
  }
  if (v.status === "failed") body.append(el("p", { class: "reason err", text: reason(v.error) }));
  body.append(el("p", { class: "hint", text: (v.is_public ? t("public_yes") : t("public_no")) + " · " + t("uploaded_at", { when: when(v.uploaded_at) }) }));
  const actions = el("div", { class: "actions" });
  if (v.status === "processed") actions.append(el("a", { href: "#/watch/" + v.video_id, class: "watch", text: t("watch"), "aria-label": t("watch") + ": " + v.title }));
  if (!(v.status === "processed" && v.is_public)) {
    actions.append(el("button", { type: "button", class: "secondary", text: t("delete"), "aria-label": t("delete") + ": " + v.title, onclick: () => remove(v) }));
  }
  body.append(actions);
  li.append(body);
  return li;
}

function renderMine() {
  if (!visible("mine")) return;
  const list = $("mine-list");
  const had = document.activeElement && list.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
  list.replaceChildren(...[...state.mine.values()].map(card));
  if (!state.mine.size) list.append(el("li", { text: t("nothing") }));
  if (had) { const again = [...list.querySelectorAll("[aria-label]")].find((x) => x.getAttribute("aria-label") === had); if (again) again.focus(); }
  liveLine();
}

async function remove(v) {
  if (!window.confirm(t("confirm_delete", { title: v.title }))) return;
  const r = await call("DELETE", "/api/videos/" + encodeURIComponent(v.video_id));
  if (r.status === 200) {
    state.mine.delete(v.video_id);
    notice(t("deleted", { title: v.title }));
    renderMine();
  } else {
    notice(r.body && r.body.error === "published" ? t("published") : failure(r));
  }
}

// --- watch ----------------------------------------------------------

async function loadWatch(id) {
  const player = $("player");
  let v = null;
  // one's own video from /api/videos, another's from the public list (not
  // asked of /api/videos first: its 403 would be logged as a failure)
  const own = async () => {
    const r = await call("GET", "/api/videos/" + encodeURIComponent(id));
    return r.status === 200 ? r.body : null;
  };
  if (signedIn() && state.mine.has(id)) v = await own();
  if (!v) {
    const r = await call("GET", "/api/public/videos?limit=100");
    if (r.status === 200) v = r.body.find((x) => x.video_id === id) || null;
  }
  if (!v && signedIn() && !state.mine.has(id)) v = await own();
  // the player moved on while the video was asked for
  if (!visible("watch") || !location.hash.endsWith("/" + id)) return;
  $("watch-back").href = signedIn() && state.mine.has(id) ? "#/mine" : "#/gallery";
  if (!v || !v.processed_url) {
    $("h-watch").textContent = t("nothing");
    stop(player);
    player.removeAttribute("poster");
    return;
  }
  $("h-watch").textContent = v.title;
  player.setAttribute("aria-label", v.title);
  if (v.poster_url) player.poster = v.poster_url;
  play(player, v);
}

// --- gallery and votes ------------------------------------------------

async function loadGallery() {
  const list = $("gallery-list");
  const r = await call("GET", `/api/public/videos?page=${state.galleryPage}&limit=${PAGE}`);
  if (r.status !== 200) { notice(failure(r)); return; }
  const me = userId();
  list.replaceChildren(...r.body.map((v) => {
    const li = el("li", { class: "card", "data-video-id": v.video_id });
    if (v.poster_url) li.append(el("img", { class: "poster", src: v.poster_url, alt: t("poster_of", { title: v.title }) }));
    const body = el("div", { class: "body" });
    body.append(el("h3", { text: v.title }), el("p", { text: t("by_player", { player: v.player, city: v.city }) }));
    const count = el("p", { class: "votes", text: votes(v.votes) });
    body.append(count);
    const actions = el("div", { class: "actions" });
    actions.append(el("a", { href: "#/watch/" + v.video_id, text: t("watch"), "aria-label": t("watch") + ": " + v.title }));
    if (me !== null && v.player_id === me) {
      actions.append(el("span", { class: "hint", text: t("your_video") }));
    } else {
      actions.append(el("button", { type: "button", class: "vote", text: t("vote"), "aria-label": t("vote_for", { title: v.title }),
        onclick: (e) => vote(v, count, e.currentTarget) }));
    }
    body.append(actions);
    li.append(body);
    return li;
  }));
  if (!r.body.length) list.append(el("li", { text: t("nothing") }));
  pager("gallery", state.galleryPage, r.body.length === PAGE);
}

async function vote(v, count, button) {
  if (!signedIn()) { go("#/login", t("login_needed")); return; }
  button.disabled = true;
  const r = await call("POST", `/api/public/videos/${encodeURIComponent(v.video_id)}/vote`);
  const err = r.body && r.body.error;
  if (r.status === 200) {
    v.votes += 1;
    count.textContent = votes(v.votes);
    votedButton(button, v.title);
    notice(t("voted", { title: v.title }));
  } else if (err === "already_voted") {
    votedButton(button, v.title);
    notice(t("already_voted"));
  } else if (err === "own_video") {
    notice(t("own_video"));
  } else {
    button.disabled = false;
    notice(failure(r));
  }
}

// The button once the player's vote is in: its name says so too.
function votedButton(button, title) {
  button.textContent = t("voted_button");
  button.setAttribute("aria-label", t("voted_button") + ": " + title);
}

function votes(n) { return n === 1 ? t("votes_one") : t("votes", { n }); }

function pager(name, page, more) {
  $(name + "-page").textContent = t("page", { n: page });
  $(name + "-prev").disabled = page <= 1;
  $(name + "-next").disabled = !more;
}

// --- rankings -------------------------------------------------------

async function loadRankings() {
  const q = new URLSearchParams({ page: state.rankPage, limit: RANK_PAGE });
  if (state.rankCity) q.set("city", state.rankCity);
  const r = await call("GET", "/api/public/rankings?" + q);
  if (r.status !== 200) { notice(failure(r)); return; }
  const rows = r.body.map((p) => el("tr", { "data-player-id": String(p.player_id) },
    el("td", { class: "num", text: String(p.position) }), el("td", { text: p.username }),
    el("td", { text: p.city }), el("td", { class: "num votes", text: String(p.votes) })));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "4", text: t("nothing") })));
  document.querySelector("#rank-table tbody").replaceChildren(...rows);
  pager("rank", state.rankPage, r.body.length === RANK_PAGE);
}

// --- start -----------------------------------------------------------

function wire() {
  $("lang").value = currentLang();
  $("lang").addEventListener("change", (e) => { setLang(e.target.value); route(false); });
  $("logout").addEventListener("click", () => {
    setToken(null);
    sessionChanged();
    go("#/gallery", t("logged_out"));
  });
  window.addEventListener("showcase:signed-out", sessionChanged);
  $("login-form").addEventListener("submit", onLogin);
  $("signup-form").addEventListener("submit", onSignup);
  $("upload-form").addEventListener("submit", onUpload);
  $("up-file").addEventListener("change", (e) => chooseFile(e.target.files[0]));
  $("up-cancel").addEventListener("click", () => { if (state.sending) state.sending.abort(); });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (!f) return;
    try { const dt = new DataTransfer(); dt.items.add(f); $("up-file").files = dt.files; } catch { /* display only */ }
    chooseFile(f);
  });
  $("gallery-prev").addEventListener("click", () => { state.galleryPage--; loadGallery(); });
  $("gallery-next").addEventListener("click", () => { state.galleryPage++; loadGallery(); });
  $("rank-prev").addEventListener("click", () => { state.rankPage--; loadRankings(); });
  $("rank-next").addEventListener("click", () => { state.rankPage++; loadRankings(); });
  $("rank-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.rankCity = $("rank-city").value.trim();
    state.rankPage = 1;
    loadRankings();
  });
  window.addEventListener("hashchange", () => {
    notice(state.message || "");
    state.message = "";
    route(true);
  });
}

apply();
wire();
sessionChanged();
route(false);
