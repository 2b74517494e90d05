#!/usr/bin/env node
// portal_e2e.js - a player's journey through the portal in a real browser
// (Debian's chromium, headless, driven by playwright-core), against a live
// stack: sign up (with the API's field errors shown by field), log in, the
// 8 s clip dropped on the page and refused there before any upload, an
// upload cancelled (and ended on the server), the 22 s 1080p clip uploaded
// through the page with tus and a moving progress bar (percent, speed,
// time left), its connection dropped once midway and the upload going on
// from the offset the server reports (the network log: POST, the PATCH
// from 0 cut, HEAD, the PATCH from there), its status reaching
// "processed" without a reload (events stream), played through hls.js
// (the master playlist from the API with the token, byte ranges of the
// presigned S3 URLs without it, two rungs or more, time advances, 1280
// wide), a clip the worker refuses, cut too and the page reloaded before
// it went on: the page names the unfinished upload and the same file
// continues it from the server's offset; then shown with the worker's
// reason in plain words and deleted, a vote for another player's video and
// the ranking that follows, that video (which has no HLS) played from its
// MP4, another player's unpublished video played through hls.js with their
// token and then from its MP4 when S3 refuses the HLS files, a browser
// without MSE given the playlist itself and then the MP4, and the Spanish
// pages.  On every page: axe-core
// finds no serious or critical violation; anywhere: no console error and
// no request to a host but the API's and the S3 server's.  Screenshots of
// each step go to ARTIFACTS.
//
// Environment: PORTAL_URL, S3_ORIGIN, FIXTURES (jump-shot.mp4, short.mp4,
// picture-18s.mp4), ARTIFACTS, NODE_MODULES, CHROMIUM, RIVAL_VIDEO (a
// public processed video of another player, without HLS), RIVAL_EMAIL and
// RIVAL_PASSWORD (that player's account), RIVAL_DRAFT (their processed
// video, not published, with HLS), CUT_ARM (a file that, once written,
// makes the proxy in front of the API drop the next connection that
// carries 300 KB more), DOC_SHOT (optional: a file to write the
// documentation's screenshot to).  Exit status 0 when all passed.
"use strict";
const path = require("path");
const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const { chromium } = require(path.join(env("NODE_MODULES"), "playwright-core"));
const AXE_SRC = require("fs").readFileSync(path.join(env("NODE_MODULES"), "axe-core", "axe.min.js"), "utf8");

const base = env("PORTAL_URL");
const allowed = new Set([new URL(base).origin, new URL(env("S3_ORIGIN")).origin]);
// NO_PASSWORDS_URL (optional): the portal of an API with API_LOCAL_ACCOUNTS=0
const noPasswords = process.env.NO_PASSWORDS_URL;
if (noPasswords) allowed.add(new URL(noPasswords).origin);
const fx = (f) => path.join(env("FIXTURES"), f);
const shots = env("ARTIFACTS");
const failures = [];
const consoleErrors = [];
const foreign = [];
let step = 0;
// the one answer the journey provokes on purpose (an invalid sign-up), which
// chromium logs as a failed resource: taken once, when it is expected
let expectedStatus = null;
// and the refusals a step provokes on purpose, by their URL
let expectedUrl = null;

function log(msg) { console.log(`${new Date().toISOString().slice(11, 23)} ${msg}`); }
function fail(msg) { failures.push(msg); log(`FAIL ${msg}`); }
function expect(cond, msg) { if (!cond) fail(msg); else log(`ok   ${msg}`); }

async function shot(page, name) {
  step += 1;
  const file = path.join(shots, `${String(step).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

async function axe(page, name) {
  // page.addScriptTag() would add an inline script, which the page's
  // policy (rightly) refuses: evaluated through the DevTools protocol instead
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE_SRC);
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, n: v.nodes.length, target: v.nodes[0] && v.nodes[0].target }));
  });
  const bad = res.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.length === 0, `axe: no serious or critical violation on ${name}` +
    (bad.length ? ": " + JSON.stringify(bad) : ""));
}

// while the journey cuts the connection: chromium logs the request the cut
// fails (and, after the reload, the PATCHes refused here), only those are
// expected
let expectedNetErrors = false;
let expectedLocked = false;
// what to show when the journey stops on an exception
let shownOnFailure = async () => {};

function watch(page) {
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (expectedUrl && expectedUrl.test(m.location().url || "")) {
      log(`(expected) ${m.text()}`);
      return;
    }
    if (expectedNetErrors && /^Failed to load resource: net::ERR_(CONNECTION_RESET|EMPTY_RESPONSE|CONNECTION_CLOSED|FAILED)$/.test(m.text())) {
      log(`(expected) ${m.text()}`);
      return;
    }
    // a request right after a cut or a cancel may meet the lock the cut
    // PATCH holds until the server has kept its bytes (423, retried)
    if ((expectedLocked || expectedNetErrors) && m.text() === "Failed to load resource: the server responded with a status of 423 (Locked)") {
      log(`(expected) ${m.text()}`);
      return;
    }
    if (expectedStatus && m.text().includes(`status of ${expectedStatus} `)) {
      log(`(expected) ${m.text()}`);
      expectedStatus = null;
      return;
    }
    consoleErrors.push(`${m.text()} (${page.url()})`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
  page.on("request", (r) => {
    const u = new URL(r.url());
    if ((u.protocol === "http:" || u.protocol === "https:") && !allowed.has(u.origin)) foreign.push(r.url());
  });
}

// The tus requests of a page, in order: {method, url, offset (the
// request's Upload-Offset), status, answer (the response's Upload-Offset,
// or the Location of a creation), failed}.
function tusNetwork(page) {
  const net = [];
  const entry = new Map();
  page.on("request", (r) => {
    if (!r.url().includes("/api/uploads/")) return;
    const e = { method: r.method(), url: r.url(), offset: r.headers()["upload-offset"], status: 0, answer: null, failed: null };
    entry.set(r, e);
    net.push(e);
  });
  page.on("response", async (res) => {
    const e = entry.get(res.request());
    if (!e) return;
    e.status = res.status();
    const h = await res.allHeaders();
    e.answer = e.method === "POST" ? h.location : h["upload-offset"];
  });
  page.on("requestfailed", (r) => { const e = entry.get(r); if (e) e.failed = r.failure().errorText; });
  return net;
}

function logTus(net) {
  net.forEach((e) => log(`  tus: ${e.method} ${new URL(e.url).pathname} offset=${e.offset ?? "-"} -> ${e.status || e.failed} ${e.answer ?? ""}`));
}

// The upload went through tus and resumed after the cut: created once,
// a PATCH from 0 cut short, a HEAD reporting the bytes the server had, the
// next PATCH from exactly there to the end.  Its video id.
function tusChecks(net, size) {
  logTus(net);
  const posts = net.filter((e) => e.method === "POST");
  expect(posts.length === 1 && posts[0].status === 201 && /\/api\/uploads\/$/.test(posts[0].url),
    "one tus creation, POST /api/uploads/ answered 201");
  const id = posts.length ? String(posts[0].answer || "").split("/").pop() : "";
  const on = net.filter((e) => e.method !== "POST" && e.url.endsWith("/" + id));
  const patches = on.filter((e) => e.method === "PATCH");
  const heads = on.filter((e) => e.method === "HEAD" && e.status === 200);
  // (cut: failed, or answered 409 if chromium sent it again whole)
  expect(patches.length >= 2 && patches[0].offset === "0" && patches[0].status !== 204,
    `the first PATCH (from 0) was cut: ${JSON.stringify(patches.map((p) => [p.offset, p.status || p.failed]))}`);
  const resumed = heads.length ? Number(heads[heads.length - 1].answer) : 0;
  expect(resumed > 0 && resumed < size, `HEAD reports what the server kept: ${resumed} of ${size} bytes`);
  const last = patches[patches.length - 1];
  expect(last && Number(last.offset) === resumed && last.status === 204 && Number(last.answer) === size,
    `the upload went on from there, not from 0: PATCH at ${last && last.offset} -> ${last && last.status}, offset ${last && last.answer}`);
  return id;
}

async function go(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForSelector(`#view-${hash.split("/")[1]}:not([hidden])`);
}

// Open video id's watch page by link (a card's link's selector) and
// check it plays as want says ("hls.js" or "mp4", after "hls.js" gave up
// when after says so): how the page says it plays, the requests it made,
// time advancing, the picture's size.
async function plays(page, id, want, { token, link, after }) {
  const reqs = [];
  const onReq = (r) => reqs.push(r);
  page.on("request", onReq);
  await page.click(link);
  await page.waitForSelector("#view-watch:not([hidden])");
  await page.waitForFunction((w) => { const p = document.getElementById("player"); return p.dataset.playback === w && p.readyState >= 1; },
    want, { timeout: 30000 }).catch(() => {});
  const how = await page.evaluate(() => document.getElementById("player").dataset.playback);
  expect(how === want, `${id} is played by ${want}: "${how}"`);
  const started = await page.evaluate(() => { const v = document.getElementById("player"); v.muted = true; return v.play().then(() => "", String); });
  if (started) log(`play(): ${started}`);
  // hls.js may start on the lowest rung and climb once it has measured
  // the network: wait for the 720p picture
  await page.waitForFunction(() => { const p = document.getElementById("player"); return p.currentTime > 1 && p.videoWidth === 1280; },
    null, { timeout: 60000 }).catch(() => {});
  const v = await page.evaluate(() => {
    const p = document.getElementById("player");
    return { t: p.currentTime, w: p.videoWidth, h: p.videoHeight, levels: Number(p.dataset.levels || 0) };
  });
  expect(v.t > 1 && v.w === 1280 && v.h === 720, `it plays: currentTime ${v.t.toFixed(2)} s, ${v.w}x${v.h}`);
  await page.evaluate(() => document.getElementById("player").pause());
  page.off("request", onReq);
  const s3 = new URL(env("S3_ORIGIN")).origin;
  const seen = await Promise.all(reqs.map(async (r) => ({ url: new URL(r.url()), type: r.resourceType(), headers: await r.allHeaders() })));
  const playlists = seen.filter((r) => r.url.origin === new URL(base).origin && /\/hls\/[^/]+\.m3u8$/.test(r.url.pathname));
  const fromS3 = seen.filter((r) => r.url.origin === s3);
  if (want === "hls.js") {
    expect(v.levels >= 2, `the ladder has ${v.levels} rungs`);
    expect(playlists.some((r) => r.url.pathname === `/api/videos/${id}/hls/master.m3u8`), "the master playlist came from the API");
    expect(playlists.length >= 2 && playlists.every((r) => r.headers.authorization === `Bearer ${token}`),
      `the ${playlists.length} playlist requests carry the player's token`);
    const ranges = fromS3.filter((r) => r.url.pathname.includes(`/processed/${id}/hls/`) && r.url.searchParams.has("X-Amz-Signature") &&
      /^bytes=\d+-\d+$/.test(r.headers.range || "") && (r.type === "xhr" || r.type === "fetch"));
    expect(ranges.length >= 2, `hls.js read byte ranges of the presigned S3 URLs (${ranges.length} requests)`);
  } else if (after) {
    expect(playlists.some((r) => r.url.pathname === `/api/videos/${id}/hls/master.m3u8`), `${after} was tried first`);
    expect(fromS3.some((r) => r.url.pathname.includes(`/processed/${id}/`) && r.url.pathname.endsWith("/video.mp4")),
      "then the MP4 came from S3");
  } else {
    expect(playlists.length === 0, "no playlist was asked for");
    expect(fromS3.some((r) => r.url.pathname.includes(`/processed/${id}/`) && r.url.pathname.endsWith("/video.mp4")),
      "the MP4 came from S3");
  }
  expect(fromS3.length > 0 && fromS3.every((r) => !r.headers.authorization), "no token was sent to S3");
}

async function main() {
  const browser = await chromium.launch({
    executablePath: env("CHROMIUM"),
    headless: true,
    args: process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [],
  });
  try {
    const mine = await journey(browser);
    await draft(browser);
    await withoutMse(browser, mine);
    await spanish(browser);
    if (noPasswords) await passwordsOff(browser);
  } catch (e) {
    await shownOnFailure().catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

async function journey(browser) {
  const ctx = await browser.newContext({ locale: "en-US", viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  watch(page);
  const stamp = Date.now();
  const email = `player${stamp}@example.com`;

  // 0. can this chromium play H.264 in MP4?
  await page.goto(base);
  const canPlay = await page.evaluate(() => document.createElement("video").canPlayType('video/mp4; codecs="avc1.42E01E"'));
  log(`canPlayType('video/mp4; codecs="avc1.42E01E"') = "${canPlay}"`);
  await page.waitForSelector("#view-gallery:not([hidden])");
  expect(await page.locator("#h-gallery").textContent() === "Gallery", "English from the browser's language");
  await shot(page, "gallery");
  await axe(page, "the gallery");

  // 1. sign up: the API's reason for a bad field is shown at that field
  await go(page, "#/signup");
  await page.fill("#su-first_name", "Valentina");
  await page.fill("#su-last_name", "Rojas");
  await page.fill("#su-email", email);
  await page.fill("#su-password1", "short");
  await page.fill("#su-password2", "short");
  await page.fill("#su-city", "Cali");
  expectedStatus = 400;
  await page.click("#signup-form button[type=submit]");
  await page.waitForSelector("#su-password1-err:not(:empty)");
  const why = await page.locator("#su-password1-err").textContent();
  expect(why === "The password needs at least 8 characters.", `the password's field says why: "${why}"`);
  expect(await page.locator("#su-password1").getAttribute("aria-invalid") === "true", "the field is marked invalid");
  await shot(page, "signup-field-error");
  await axe(page, "sign-up with errors");
  await page.fill("#su-password1", "jump-shot-9");
  await page.fill("#su-password2", "jump-shot-9");
  await page.click("#signup-form button[type=submit]");
  await page.waitForSelector("#view-login:not([hidden])");
  expect((await page.locator("#notice").textContent()).includes("log in"), "signed up, asked to log in");

  // 2. log in
  expect(await page.inputValue("#login-email") === email, "the email is filled in");
  await page.fill("#login-password", "jump-shot-9");
  await shot(page, "login");
  await axe(page, "log-in");
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#view-mine:not([hidden])");
  expect(await page.evaluate(() => document.cookie === "" && !!sessionStorage.getItem("showcase.token")),
    "the token is in session storage, no cookie");
  const ids = await page.evaluate(async () => {
    const me = await fetch("/api/me", { headers: { Authorization: "Bearer " + sessionStorage.getItem("showcase.token") } });
    return { api: (await me.json()).user_id, page: sessionStorage.getItem("showcase.user_id") };
  });
  expect(String(ids.api) === ids.page, `the page knows its player from GET /api/me (${ids.page} vs ${ids.api})`);

  // 3. the 8 s clip is refused by the page, before any upload
  let uploads = 0, classic = 0;
  page.on("request", (r) => { if (/\/api\/(videos\/upload|uploads\/)/.test(r.url())) uploads += 1; });
  page.on("request", (r) => { if (r.url().endsWith("/api/videos/upload")) classic += 1; });
  const tusLog = tusNetwork(page);
  shownOnFailure = async () => {
    logTus(tusLog);
    log(`  the page says: ${JSON.stringify(await page.evaluate(() => ["up-net", "up-stats", "upload-err"].map((id) => document.getElementById(id).textContent)))}`);
  };
  await go(page, "#/upload");
  // dropped on the page, as a player would from a file manager
  const bytes = require("fs").readFileSync(fx("short.mp4")).toString("base64");
  await page.evaluate((b64) => {
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([raw], "short.mp4", { type: "video/mp4" }));
    document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes);
  await page.waitForSelector("#up-file-err:not(:empty)");
  const refused = await page.locator("#up-file-err").textContent();
  expect(refused.includes("The video is 8 s long; the contest needs at least 20 s."), `the page refuses the 8 s clip: "${refused}"`);
  await page.click("#up-send");
  await page.waitForTimeout(300);
  expect(uploads === 0, "nothing was sent for the short clip");
  await shot(page, "upload-too-short");
  await axe(page, "upload with a refused file");

  // 4. the 22 s 1080p clip, with the network slowed so the bar moves
  await page.setInputFiles("#up-file", fx("jump-shot.mp4"));
  await page.waitForFunction(() => /1920×1080, 22 s/.test(document.getElementById("up-file-info").textContent));
  expect(await page.locator("#up-file-err").textContent() === "", "the 22 s clip passes the page's checks");
  // 150 characters that are 300 bytes: the API's limit is 200 bytes
  await page.fill("#up-title", "ñ".repeat(150));
  await page.click("#up-send");
  await page.waitForSelector("#up-title-err:not(:empty)");
  expect(uploads === 0, "nothing was sent for a title over 200 bytes");
  await page.fill("#up-title", "Crossover and jump shot");
  await page.evaluate(() => {
    window.__seen = { values: [], stats: [] };
    const bar = document.getElementById("up-bar");
    const stats = document.getElementById("up-stats");
    new MutationObserver(() => {
      window.__seen.values.push(bar.value);
      window.__seen.stats.push(stats.textContent);
    }).observe(document.getElementById("up-progress"), { attributes: true, childList: true, subtree: true, characterData: true });
  });
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 200 * 1024 });
  // first a cancel: the upload stops and nothing is left of it
  await page.click("#up-send");
  await page.waitForFunction(() => document.getElementById("up-bar").value > 0, null, { timeout: 30000 });
  // the cancel ends the upload on the server (tus termination): its DELETE
  // may meet the lock of the PATCH just cut (423, retried), which chromium
  // logs; expected until the DELETE is answered 204
  const deleted = page.waitForResponse((r) => r.request().method() === "DELETE" &&
    r.url().includes("/api/uploads/") && r.status() === 204, { timeout: 30000 });
  expectedLocked = true;
  await page.click("#up-cancel");
  expect(!!(await deleted.catch(() => null)), "the cancel ended the upload on the server (DELETE answered 204)");
  expectedLocked = false;
  await page.waitForSelector("#upload-err:not(:empty)");
  expect(await page.locator("#upload-err").textContent() === "The upload was cancelled.", "the upload can be cancelled");
  expect(await page.locator("#up-send").isEnabled() && await page.locator("#up-progress").isHidden(), "the form is back after the cancel");
  await page.evaluate(() => {
    window.__seen = { values: [], stats: [] };
    window.__net = [];
    const net = document.getElementById("up-net");
    if (net) new MutationObserver(() => window.__net.push(net.textContent)).observe(net, { childList: true, characterData: true, subtree: true });
  });
  tusLog.length = 0;
  // the proxy in front of the API drops the connection once 300 KB of
  // this upload went through it (of 690 KB): the upload goes on from the
  // offset the server reports
  require("fs").writeFileSync(env("CUT_ARM"), "");
  expectedNetErrors = true;
  await page.click("#up-send");
  await page.waitForFunction(() => { const v = document.getElementById("up-bar").value; return v > 5 && v < 95; }, null, { timeout: 30000 });
  await shot(page, "upload-progress");
  await page.waitForSelector("#view-mine:not([hidden])", { timeout: 60000 });
  expectedNetErrors = false;
  const net = await page.evaluate(() => window.__net);
  expect(net.some((x) => /^The connection was lost at \d+%/.test(x)) && net.includes("Connected again: the upload continues."),
    `the page said the connection was lost, then back: ${JSON.stringify(net)}`);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const sentBy = tusChecks(tusLog, require("fs").statSync(fx("jump-shot.mp4")).size);
  expect(classic === 0, `the page no longer uses the classic upload (${classic} requests)`);
  const seen = await page.evaluate(() => window.__seen);
  const mid = [...new Set(seen.values.filter((v) => v > 0 && v < 100))];
  expect(mid.length >= 2, `the progress bar moved: ${JSON.stringify(mid)}`);
  const statLine = seen.stats.find((s) => /^\d+% · [\d.]+ (KB|MB)\/s · .+ left$/.test(s));
  expect(!!statLine, `percent, speed and time left shown: "${statLine || seen.stats.slice(-1)[0]}"`);

  // 5. the status reaches "processed" live, without a reload
  await page.evaluate(() => { window.__noReload = true; });
  const card = page.locator("#mine-list li.card", { hasText: "Crossover and jump shot" });
  await card.waitFor();
  const first = await card.getAttribute("data-status");
  log(`my video's status at first: ${first}`);
  await page.evaluate(() => {
    window.__statuses = [];
    new MutationObserver(() => {
      for (const li of document.querySelectorAll("#mine-list li.card")) window.__statuses.push(li.dataset.status);
    }).observe(document.getElementById("mine-list"), { childList: true, subtree: true, attributes: true });
  });
  await shot(page, "my-videos-processing");
  await page.waitForSelector('#mine-list li.card[data-status="processed"]', { timeout: 120000 });
  expect(await page.evaluate(() => window.__noReload === true), "the page was not reloaded");
  expect(first !== "processed", `the status changed live (${first} -> processed)`);
  expect(await page.locator("#mine-list li.card").count() === 1, "the cancelled upload left no video");
  const videoId = await page.locator('#mine-list li.card[data-status="processed"]').getAttribute("data-video-id");
  expect(videoId === sentBy, `the video is the tus upload's (${sentBy})`);
  await page.waitForSelector(`#mine-list li.card[data-video-id="${videoId}"] img.poster`);
  await shot(page, "my-videos-processed");
  await axe(page, "my videos");

  // 6. watch it, through hls.js (this chromium says "maybe" to HLS and
  // cannot play it: the page must not believe it)
  log(`canPlayType('application/vnd.apple.mpegurl') = "${await page.evaluate(() =>
    document.createElement("video").canPlayType("application/vnd.apple.mpegurl"))}"`);
  const myToken = await page.evaluate(() => sessionStorage.getItem("showcase.token"));
  if (canPlay === "probably" || canPlay === "maybe") {
    await plays(page, videoId, "hls.js", { token: myToken, link: `#mine-list li.card[data-video-id="${videoId}"] a.watch` });
  } else {
    fail("this chromium cannot play H.264 in MP4");
  }
  const poster = await page.evaluate(() => document.getElementById("player").poster);
  expect(new URL(poster).origin === new URL(env_s3()).origin, "the player has the poster");
  await shot(page, "watch");
  await axe(page, "watch");

  // 7. a clip the worker refuses: the page shows the worker's reason
  await go(page, "#/upload");
  await page.setInputFiles("#up-file", fx("picture-18s.mp4"));
  await page.waitForFunction(() => /, 20 s$/.test(document.getElementById("up-file-info").textContent));
  expect(await page.locator("#up-file-err").textContent() === "", "the page lets the 20 s file through");
  await page.fill("#up-title", "Eighteen seconds of picture");
  // this one is cut too, and the page reloaded before it could go on:
  // the upload continues from the browser's storage, from the server's
  // offset (while the page is reloaded, its PATCHes are refused here)
  tusLog.length = 0;
  await page.route("**/api/uploads/*", (route) => (route.request().method() === "PATCH" && !require("fs").existsSync(env("CUT_ARM"))
    ? route.abort() : route.continue()));
  // (slowed as above: the server reads the bytes as they come, so it has
  // some to keep when the connection drops)
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 200 * 1024 });
  require("fs").writeFileSync(env("CUT_ARM"), "");
  expectedNetErrors = true;
  await page.click("#up-send");
  await page.waitForFunction(() => /connection was lost/.test(document.getElementById("up-net").textContent), null, { timeout: 30000 });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.reload();
  await page.unroute("**/api/uploads/*");
  expectedNetErrors = false;
  await page.waitForSelector("#view-upload:not([hidden])");
  const left = await page.locator("#up-unfinished").textContent();
  expect(left.includes("“Eighteen seconds of picture” (picture-18s.mp4,"), `after the reload the page names the unfinished upload: "${left}"`);
  await shot(page, "upload-unfinished");
  await axe(page, "upload with an unfinished upload");
  tusLog.length = 0;
  await page.setInputFiles("#up-file", fx("picture-18s.mp4"));
  await page.waitForFunction(() => /% of it was sent earlier/.test(document.getElementById("up-file-info").textContent), null, { timeout: 10000 });
  expect(await page.locator("#up-send").textContent() === "Continue the upload", "the page offers to continue it");
  expect(await page.inputValue("#up-title") === "Eighteen seconds of picture", "with its title");
  await page.click("#up-send");
  await page.waitForSelector("#view-mine:not([hidden])", { timeout: 60000 });
  const fxSize = require("fs").statSync(fx("picture-18s.mp4")).size;
  logTus(tusLog);
  const patched = tusLog.filter((e) => e.method === "PATCH");
  const headAt = tusLog.filter((e) => e.method === "HEAD" && e.status === 200).map((e) => Number(e.answer));
  expect(tusLog.every((e) => e.method !== "POST") && headAt.length && headAt[headAt.length - 1] > 0 &&
    patched.length === 1 && Number(patched[0].offset) === headAt[headAt.length - 1] && patched[0].status === 204 &&
    Number(patched[0].answer) === fxSize,
  `after the reload, no new upload: one PATCH from the offset HEAD reported (${patched[0] && patched[0].offset}) to the end`);
  const failed = page.locator('#mine-list li.card[data-status="failed"]', { hasText: "Eighteen seconds of picture" });
  await failed.waitFor({ timeout: 120000 });
  const reasonText = await failed.locator(".reason").textContent();
  expect(reasonText === "The video is 18 s long; the contest needs at least 20 s.", `the worker's reason in plain words: "${reasonText}"`);
  await shot(page, "worker-refused");
  // the refused one can be deleted; the public processed one cannot
  expect(await page.locator(`#mine-list li.card[data-video-id="${videoId}"] button`).count() === 0,
    "no delete button on a video in the contest");
  page.once("dialog", (d) => d.accept());
  await failed.locator("button", { hasText: "Delete" }).click();
  await failed.waitFor({ state: "detached" });
  await page.waitForFunction(() => document.getElementById("notice").textContent.startsWith("Deleted"), null, { timeout: 10000 })
    .catch(() => {});
  expect((await page.locator("#notice").textContent()).startsWith("Deleted"), "the refused video is deleted");

  // 8. vote for another player's video; the ranking follows
  const rival = env("RIVAL_VIDEO");
  await go(page, "#/rankings");
  await page.fill("#rank-city", "Medellin");
  await page.click("#rank-form button[type=submit]");
  // the rival's row (the only player of Medellin)
  const rivalRow = page.locator("#rank-table tbody tr[data-player-id]", { hasText: "Medellin" });
  await rivalRow.waitFor();
  const before = Number(await rivalRow.locator("td.votes").textContent());
  await go(page, "#/gallery");
  const rivalCard = page.locator(`#gallery-list li[data-video-id="${rival}"]`);
  await rivalCard.waitFor();
  const own = page.locator(`#gallery-list li[data-video-id="${videoId}"]`);
  await own.waitFor();	// the list of this visit, not the first one's
  expect(await own.count() === 1 && await own.locator("button.vote").count() === 0, "no vote button on my own video");
  await rivalCard.locator("button.vote").click();
  await page.waitForFunction((id) => /voted|counted/.test(document.getElementById("notice").textContent), rival);
  const shown = before + 1 === 1 ? "1 vote" : `${before + 1} votes`;
  expect(await rivalCard.locator(".votes").textContent() === shown, `the vote is counted on the card (${shown})`);
  expect(await rivalCard.locator("button.vote").textContent() === "Voted" && await rivalCard.locator("button.vote").isDisabled(),
    "the button says the vote is in");
  await shot(page, "voted");
  await axe(page, "the gallery, signed in");
  // that video has no HLS (processed before it): the page plays its MP4
  await plays(page, rival, "mp4", { token: myToken, link: `#gallery-list li[data-video-id="${rival}"] a[href="#/watch/${rival}"]` });
  await shot(page, "watch-mp4");
  await go(page, "#/rankings");
  await page.click("#rank-form button[type=submit]");
  await page.waitForFunction((want) => [...document.querySelectorAll("#rank-table tbody tr[data-player-id]")]
    .some((r) => r.textContent.includes("Medellin") && Number(r.querySelector("td.votes").textContent) === want),
  before + 1, { timeout: 15000 }).catch(() => {});
  const after = Number(await rivalRow.locator("td.votes").textContent());
  expect(after === before + 1, `the ranking changed: ${before} -> ${after} votes`);
  await shot(page, "rankings");
  await axe(page, "rankings");
  if (process.env.DOC_SHOT) {
    await go(page, "#/mine");
    await page.waitForSelector('#mine-list li.card[data-status="processed"] img.poster');
    await page.setViewportSize({ width: 1100, height: 760 });
    await page.screenshot({ path: process.env.DOC_SHOT });
  }
  await ctx.close();
  return videoId;
}

// a browser without Media Source Extensions (an iPhone's Safari) is given
// the HLS playlist itself; this chromium says "maybe" to it and cannot
// play it, so the page then falls back to the MP4
async function withoutMse(browser, id) {
  const ctx = await browser.newContext({ locale: "en-US", viewport: { width: 390, height: 844 } });
  await ctx.addInitScript(() => { delete window.MediaSource; delete window.ManagedMediaSource; });
  const page = await ctx.newPage();
  watch(page);
  await page.goto(base + "#/gallery");
  await page.waitForSelector(`#gallery-list li[data-video-id="${id}"]`);
  expect(await page.evaluate(() => !("MediaSource" in window)), "no MSE in this page");
  const tried = [];
  let module = 0;
  page.on("request", (r) => {
    if (r.url().endsWith(`/api/videos/${id}/hls/master.m3u8`)) tried.push(r.resourceType());
    if (r.url().endsWith("/hls.light.min.mjs")) module += 1;
  });
  await plays(page, id, "mp4", { token: null, link: `#gallery-list li[data-video-id="${id}"] a[href="#/watch/${id}"]`, after: "native" });
  expect(tried.includes("media"), `the player itself asked for the master playlist (${JSON.stringify(tried)})`);
  expect(module === 0, "hls.js was not loaded");
  await ctx.close();
}

// another player watches their own unpublished video: its playlists need
// their token, which hls.js sends to the API and never to S3
async function draft(browser) {
  const ctx = await browser.newContext({ locale: "en-US", viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  watch(page);
  await page.goto(base + "#/login");
  await page.waitForSelector("#view-login:not([hidden])");
  await page.fill("#login-email", env("RIVAL_EMAIL"));
  await page.fill("#login-password", env("RIVAL_PASSWORD"));
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector(`#mine-list li.card[data-video-id="${env("RIVAL_DRAFT")}"]`);
  const tok = await page.evaluate(() => sessionStorage.getItem("showcase.token"));
  await plays(page, env("RIVAL_DRAFT"), "hls.js", { token: tok, link: `#mine-list li.card[data-video-id="${env("RIVAL_DRAFT")}"] a.watch` });
  await shot(page, "watch-unpublished");
  // S3 refuses the HLS files (as with a playlist older than its
  // signatures, or a bucket without the CORS rule): hls.js gives up and
  // the page plays the MP4
  await go(page, "#/mine");
  const hlsFiles = (u) => u.origin === new URL(env("S3_ORIGIN")).origin && u.pathname.includes("/hls/");
  await page.route(hlsFiles, (r) => r.fulfill({ status: 403, contentType: "application/xml",
    headers: { "Access-Control-Allow-Origin": new URL(base).origin },
    body: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>" }));
  expectedUrl = /\/hls\//;
  await plays(page, env("RIVAL_DRAFT"), "mp4", { token: tok, link: `#mine-list li.card[data-video-id="${env("RIVAL_DRAFT")}"] a.watch`, after: "hls.js" });
  expectedUrl = null;
  await page.unroute(hlsFiles);
  // leaving the page stops the player and its loading
  await go(page, "#/mine");
  expect(await page.evaluate(() => { const p = document.getElementById("player"); return p.paused && !p.hasAttribute("src") && !p.dataset.playback; }),
    "leaving the watch page empties the player");
  await ctx.close();
}

// the page in Spanish for a browser that asks for it, and the switch
async function spanish(browser) {
  const ctx = await browser.newContext({ locale: "es-CO", viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  watch(page);
  await page.goto(base + "#/rankings");
  await page.waitForSelector("#view-rankings:not([hidden])");
  expect(await page.locator("#h-rankings").textContent() === "Clasificación", "Spanish from the browser's language");
  expect(await page.evaluate(() => document.documentElement.lang) === "es", "the page says it is Spanish");
  await shot(page, "phone-spanish");
  await axe(page, "rankings in Spanish, at a phone's width");
  await page.selectOption("#lang", "en");
  expect(await page.locator("#h-rankings").textContent() === "Rankings", "the switch turns it to English");
  await ctx.close();
}

// With API_LOCAL_ACCOUNTS=0 log-in and sign-up answer 404: the page says
// that passwords are off on this server, in the page's language, rather
// than that something failed.
async function passwordsOff(browser) {
  const ctx = await browser.newContext({ locale: "es-CO" });
  const page = await ctx.newPage();
  watch(page);
  await page.goto(noPasswords + "#/login");
  await page.fill("#login-email", "someone@example.com");
  await page.fill("#login-password", "jump-shot-9");
  expectedStatus = 404;
  await page.click("#login-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("login-err").textContent !== "");
  const said = await page.locator("#login-err").textContent();
  expect(/proveedor de identidad/.test(said), `log-in with passwords off says so: "${said}"`);
  await page.goto(noPasswords + "#/signup");
  for (const [f, v] of [["first_name", "Ana"], ["last_name", "Diaz"], ["email", "ana@example.com"],
    ["password1", "jump-shot-9"], ["password2", "jump-shot-9"], ["city", "Cali"], ["country", "CO"]]) {
    await page.fill("#su-" + f, v);
  }
  expectedStatus = 404;
  await page.click("#signup-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("signup-err").textContent !== "");
  const su = await page.locator("#signup-err").textContent();
  expect(/proveedor de identidad/.test(su), `sign-up with passwords off says so: "${su}"`);
  await shot(page, "passwords-off");
  await ctx.close();
}

function env_s3() { return env("S3_ORIGIN"); }

main().then(() => {
  expect(consoleErrors.length === 0, "no console error" + (consoleErrors.length ? ": " + JSON.stringify(consoleErrors) : ""));
  expect(foreign.length === 0, "no request to another host" + (foreign.length ? ": " + JSON.stringify(foreign) : ""));
  if (failures.length) {
    log(`${failures.length} check(s) failed`);
    process.exit(1);
  }
  log("all checks passed");
}, (e) => {
  log(`FAIL ${e.stack || e}`);
  process.exit(1);
});
