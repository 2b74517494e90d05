// i18n.js - the portal's two languages: the tables, the choice (the
// browser's language first, then the switch, remembered in localStorage),
// and the worker's failure reasons in plain words.
import en from "./strings-en.js";
import es from "./strings-es.js";

const tables = { en, es };
const KEY = "showcase.lang";
let lang = pick();

function pick() {
  const saved = localStorage.getItem(KEY);
  if (saved && tables[saved]) return saved;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "es"];
  for (const l of langs) {
    const base = String(l).toLowerCase().split("-")[0];
    if (tables[base]) return base;
  }
  return "es";
}

export function current() { return lang; }

// The string for key with {name} replaced from vars; the key if unknown.
export function t(key, vars = {}) {
  const s = tables[lang][key] ?? tables.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// Translate the static page: data-i18n (text), data-i18n-aria (aria-label).
export function apply(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

export function set(l) {
  if (!tables[l]) return;
  lang = l;
  localStorage.setItem(KEY, l);
  apply();
}

// Numbers of the worker's message ("the video is 18.0 s long; the minimum
// is 20 s"), shown whole when they are.
function nums(message) {
  return (String(message || "").match(/\d+(?:\.\d+)?/g) || []).map((n) => {
    const x = Number(n);
    return Number.isInteger(x) ? String(x) : x.toFixed(1);
  });
}

// The API's reasons for invalid fields (api/input.c, api/password.c), in
// the page's language; one it does not know is shown as it came.
const FIELD_REASONS = {
  "is required": "required",
  "must not be empty": "required",
  "must not be blank": "required",
  "is too short": "f_too_short",
  "is too long": "f_too_long",
  "is too long (200 bytes at most)": "f_title_too_long",
  "must be UTF-8 text without control characters": "f_bad_text",
  "is not an email address": "f_bad_email",
  "must be at least 8 characters": "f_pw_short",
  "must contain a letter and a digit": "f_pw_weak",
  "does not match password1": "passwords_differ",
  "is not an MP4 or MOV video": "f_not_video",
};

export function fieldReason(why) {
  const key = FIELD_REASONS[why];
  return key ? t(key) : t("field_problem", { why });
}

const OURS = new Set(["s3", "db", "redis", "timeout", "crashed", "internal", "worker_lost", "cancelled"]);

// A failed video's reason in plain words, from the worker's code and the
// numbers in its message (worker/pipeline/policy.c writes them).
export function reason(error) {
  const code = error && error.code ? error.code : "internal";
  const n = nums(error && error.message);
  switch (code) {
    case "too_short": return t("r_too_short", { s: n[0] ?? "?", min: n[1] ?? "?" });
    case "too_long": return t("r_too_long", { s: n[0] ?? "?", max: n[1] ?? "?" });
    case "low_resolution": return t("r_low_resolution", { w: n[0] ?? "?", h: n[1] ?? "?", side: n[2] ?? "?" });
    case "too_large": return t("r_too_large", { mb: n[0] ?? "?", limit: n[1] ?? "?" });
    case "picture_too_large": return t("r_picture_too_large", { w: n[0] ?? "?", h: n[1] ?? "?" });
    case "unsupported_container": case "unsupported_codec": case "no_video_stream":
    case "corrupt": case "empty": case "output_check":
      return t("r_" + code);
    default:
      return OURS.has(code) ? t("r_ours") : t("r_other", { code });
  }
}
