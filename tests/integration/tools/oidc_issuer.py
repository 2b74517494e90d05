#!/usr/bin/python3
"""A local OpenID Connect issuer's public side, for tests: its discovery
document and its key set.

GET /.well-known/openid-configuration names the issuer
http://127.0.0.1:PORT and its jwks_uri; GET /jwks.json serves the file
JWKS as it is at that moment (the test rewrites it to rotate keys) and
appends a line to HITS for each fetch, so a test can count them.
OIDC_JWKS_URI, when set, is the jwks_uri the document names instead.

usage: oidc_issuer.py PORT JWKS HITS
"""
import http.server
import json
import os
import sys

import stubhttp

PORT, JWKS, HITS = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ISSUER = "http://127.0.0.1:%d" % PORT


class Issuer(stubhttp.Handler):
    def do_GET(self):
        if self.path == "/.well-known/openid-configuration":
            doc = {"issuer": ISSUER,
                   "jwks_uri": os.environ.get("OIDC_JWKS_URI", ISSUER + "/jwks.json"),
                   "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
            return self.reply(200, json.dumps(doc),
                              [("Content-Type", "application/json")])
        if self.path == "/jwks.json":
            with open(HITS, "a") as f:
                f.write("jwks\n")
            with open(JWKS) as f:
                return self.reply(200, f.read(),
                                  [("Content-Type", "application/json")])
        self.reply(404, "")


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Issuer).serve_forever()
