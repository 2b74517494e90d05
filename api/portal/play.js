// play.js - what the watch page's <video> plays: the video's HLS ladder
// (hls_url) through hls.js where the browser has Media Source Extensions,
// the browser's own HLS where it has none but plays HLS (iOS Safari), the
// MP4 (processed_url) otherwise, and the MP4 again when hls.js gives up.
// The element says which in data-playback ("hls.js", "native", "mp4") and,
// with hls.js, the ladder's rungs in data-levels.
//
// hls.js (hls.light.min.mjs, the npm package's file unchanged: see
// THIRD_PARTY.txt) is loaded on the first video only.  Some browsers
// answer canPlayType("application/vnd.apple.mpegurl") with "maybe" and
// cannot play it, so hls.js comes first wherever it is supported.
import { API, token } from "./api.js";

let hls = null;		// the hls.js player of the current video
let current = 0;	// the video being set up; older setups stop
let hlsModule = null;	// the promise of hls.js's module

function loadHls() {
  if (!hlsModule) hlsModule = import("./hls.light.min.mjs").then((m) => m.default);
  return hlsModule;
}

// The API's origin: the playlists' requests (and those only) carry the
// player's token; the segments' presigned S3 URLs never do.
function apiOrigin() { return new URL(API || "/", location.href).origin; }

function mark(player, how, levels) {
  player.dataset.playback = how;
  if (levels) player.dataset.levels = String(levels);
  else delete player.dataset.levels;
}

function mp4(player, v) {
  mark(player, "mp4");
  player.src = v.processed_url;
}

// Stop whatever plays and empty the element (removing src alone would
// leave the old video loaded).
export function stop(player) {
  current += 1;
  if (hls) {
    hls.destroy();
    hls = null;
  }
  if (player.hasAttribute("src")) {
    player.pause();
    player.removeAttribute("src");
    player.load();
  }
  delete player.dataset.playback;
  delete player.dataset.levels;
}

// Play the video view v ({hls_url, processed_url, is_public}) in player.
export async function play(player, v) {
  stop(player);
  const mine = current;
  const master = v.hls_url ? new URL(API + v.hls_url, location.href).href : null;
  const mse = "MediaSource" in window || "ManagedMediaSource" in window;
  if (master && mse) {
    let Hls = null;
    try {
      Hls = await loadHls();
    } catch {
      Hls = null;	// the file could not be loaded: the MP4
    }
    if (mine !== current) return;
    if (Hls && Hls.isSupported()) {
      attach(player, v, Hls, master);
      return;
    }
  }
  // no MSE: the browser's own HLS, which cannot send a token, so for a
  // public video only
  if (master && !mse && v.is_public && player.canPlayType("application/vnd.apple.mpegurl")) {
    mark(player, "native");
    player.addEventListener("error", () => { if (mine === current) mp4(player, v); }, { once: true });
    player.src = master;
    return;
  }
  mp4(player, v);
}

// A request that asking again will not mend: 4xx (a presigned URL past
// its time, a playlist the player may no longer see) or refused by CORS
// (status 0 while online).  hls.js would first try the other rungs, whose
// files are signed alike, for half a minute before giving up.
function refused(Hls, data) {
  const code = data.type === Hls.ErrorTypes.NETWORK_ERROR && data.response ? data.response.code : undefined;
  return (code === 0 && navigator.onLine) || (code >= 400 && code <= 499);
}

function attach(player, v, Hls, master) {
  const api = apiOrigin();
  const tok = token();
  hls = new Hls({
    // no Web Worker: the module build has none inlined (the policy would
    // refuse one from blob: anyway), and the segments are fMP4 already,
    // so the transmuxer's work on the page is light
    enableWorker: false,
    xhrSetup(xhr, url) {
      xhr.open("GET", url, true);
      if (tok && new URL(url, location.href).origin === api) xhr.setRequestHeader("Authorization", "Bearer " + tok);
    },
  });
  const mine = hls;
  mark(player, "hls.js");
  hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => mark(player, "hls.js", data.levels.length));
  hls.on(Hls.Events.ERROR, (_, data) => {
    if (!(data.fatal || refused(Hls, data)) || hls !== mine) return;
    hls.destroy();
    hls = null;
    mp4(player, v);
  });
  hls.loadSource(master);
  hls.attachMedia(player);
}
