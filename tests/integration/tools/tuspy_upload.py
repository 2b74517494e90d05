#!/usr/bin/python3
"""Upload a file with tuspy (python3-tuspy), a second tus client written
independently of tus-js-client, retrying through dropped connections.
Prints the upload's URL.

With CHUNK_BYTES each PATCH sends at most that many bytes (default: the
rest of the file in one PATCH); with --checksum each PATCH carries an
Upload-Checksum (sha1); with --url URL an upload begun earlier is resumed
from the offset the server reports (HEAD).

usage: tuspy_upload.py ENDPOINT TOKEN FILE TITLE [CHUNK_BYTES] [--checksum]
                       [--url URL]
"""
import sys

from tusclient import client

endpoint, token, path, title = sys.argv[1:5]
url = sys.argv[sys.argv.index("--url") + 1] if "--url" in sys.argv else None
args = [a for a in sys.argv[5:] if not a.startswith("--") and a != url]
chunk = int(args[0]) if args else sys.maxsize
c = client.TusClient(endpoint, headers={"Authorization": "Bearer " + token})
up = c.uploader(path, url=url, chunk_size=chunk, metadata={"title": title},
                retries=20, retry_delay=0.3,
                upload_checksum="--checksum" in sys.argv)
up.upload()
print(up.url)
