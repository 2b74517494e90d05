// rules.js - what the page checks before sending a file: the contest's
// default rules (POLICY_* and API_MAX_UPLOAD_MB in the README).  The
// worker is the authority: a file that passes here may still be refused
// there (it measures the video track, not the container), and the page
// then shows the worker's reason.
export const RULES = {
  maxMB: 100,
  minSeconds: 20,
  maxSeconds: 60,
  minShortSide: 1080,
  trimSeconds: 30,
  types: ["video/mp4", "video/quicktime"],
  extensions: [".mp4", ".mov"],
};

// What a <video> element reads of the file: duration (s) and picture
// size (rotation applied); rejects when the browser cannot read it.
export function readMetadata(file) {
  return new Promise((resolve, reject) => {
    const v = document.createElement("video");
    const url = URL.createObjectURL(file);
    const done = (fn, arg) => {
      v.onloadedmetadata = v.onerror = null;
      v.removeAttribute("src");
      v.load();
      URL.revokeObjectURL(url);
      fn(arg);
    };
    v.preload = "metadata";
    v.muted = true;
    v.onloadedmetadata = () => done(resolve, { duration: v.duration, width: v.videoWidth, height: v.videoHeight });
    v.onerror = () => done(reject, new Error("unreadable"));
    v.src = url;
  });
}

// Problems of the file as [key, vars] pairs for t(); [] when it looks fine.
export async function check(file) {
  const name = file.name.toLowerCase();
  const typeOk = RULES.types.includes(file.type) || RULES.extensions.some((e) => name.endsWith(e));
  const mb = file.size / 1048576;
  const info = { name: file.name, mb: mb.toFixed(1) };
  if (!typeOk) return { problems: [["bad_type", { type: file.type || name.split(".").pop() }]], info };
  if (mb > RULES.maxMB) return { problems: [["too_big", { mb: mb.toFixed(1), limit: RULES.maxMB }]], info };
  let m;
  try {
    m = await readMetadata(file);
  } catch {
    return { problems: [["unreadable", {}]], info };
  }
  const s = Math.round(m.duration * 10) / 10;
  const shown = Number.isInteger(s) ? String(s) : s.toFixed(1);
  Object.assign(info, { w: m.width, h: m.height, s: shown });
  const problems = [];
  if (!(m.duration >= RULES.minSeconds)) problems.push(["r_too_short", { s: shown, min: RULES.minSeconds }]);
  if (m.duration > RULES.maxSeconds) problems.push(["r_too_long", { s: shown, max: RULES.maxSeconds }]);
  if (Math.min(m.width, m.height) < RULES.minShortSide)
    problems.push(["r_low_resolution", { w: m.width, h: m.height, side: RULES.minShortSide }]);
  return { problems, info };
}
