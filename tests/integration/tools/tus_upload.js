// Upload a file with tus-js-client (the library the portal uses), retrying
// through dropped connections, and print one JSON line:
//   {"url": ..., "retries": N, "offsets": [offsets the server reported]}
// With TUS_WITH_UPLOAD=1 the first bytes go with the creation
// (creation-with-upload).
// usage: node tus_upload.js ENDPOINT TOKEN FILE TITLE
'use strict';
const fs = require('fs');
const path = require('path');
const tus = require(path.join(process.env.NODE_MODULES || 'node_modules', 'tus-js-client'));

const [endpoint, token, file, title] = process.argv.slice(2);
const data = fs.readFileSync(file);
let retries = 0;
const offsets = [];

const upload = new tus.Upload(data, {
  endpoint,
  headers: { Authorization: `Bearer ${token}` },
  metadata: { title, filename: path.basename(file), is_public: 'true' },
  uploadDataDuringCreation: process.env.TUS_WITH_UPLOAD === '1',
  retryDelays: [0, 200, 500, 1000, 1000, 1000, 2000, 2000, 2000, 2000,
                2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000],
  onShouldRetry(err) {
    retries += 1;
    process.stderr.write(`retry ${retries}: ${err.message.split('\n')[0]}\n`);
    return true;
  },
  onAfterResponse(req, res) {
    const o = res.getHeader('Upload-Offset');
    if (o !== undefined && o !== null && o !== '') offsets.push(Number(o));
  },
  onError(err) {
    process.stderr.write(`failed: ${err}\n`);
    process.exit(1);
  },
  onSuccess() {
    process.stdout.write(JSON.stringify({ url: upload.url, retries, offsets }) + '\n');
  },
});
upload.start();
