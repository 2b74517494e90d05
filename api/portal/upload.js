// upload.js - the upload's transport, behind one function so that a
// resumable one (tus) can take its place: today the classic multipart
// POST /api/videos/upload over XMLHttpRequest, whose upload events give
// the progress (fetch() has none for request bodies).
//
// upload({api, token, file, title, isPublic, onProgress}) (api: the
// API's origin, "" for the page's own) returns
// {done, abort}: done resolves with {status, body} (the API's answer,
// any status) and rejects with Error("aborted") or Error("network");
// onProgress({loaded, total}) is called as bytes leave.
export function upload({ api, token, file, title, isPublic, onProgress }) {
  const xhr = new XMLHttpRequest();
  const form = new FormData();
  form.append("title", title);
  form.append("is_public", isPublic ? "true" : "false");
  form.append("video_file", file, file.name);
  const done = new Promise((resolve, reject) => {
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress({ loaded: e.loaded, total: e.total });
    };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      resolve({ status: xhr.status, body });
    };
    xhr.onabort = () => reject(new Error("aborted"));
    xhr.onerror = () => reject(new Error("network"));
  });
  xhr.open("POST", api + "/api/videos/upload");
  xhr.setRequestHeader("Authorization", "Bearer " + token);
  xhr.send(form);
  return { done, abort: () => xhr.abort() };
}
