#!/usr/bin/python3
"""Keys and tokens of a test identity provider, made with jwcrypto.

  oidc_tokens.py key DIR KID rsa|ec     a new private key DIR/KID.json
  oidc_tokens.py jwks DIR KID...        the public JWK Set of those keys
  oidc_tokens.py sign DIR KID CLAIMS [HEADER_KID]
                                        a token signed with key KID (RS256
                                        for RSA, ES256 for EC); CLAIMS is
                                        a JSON object; its header names
                                        HEADER_KID if given, else KID
  oidc_tokens.py none CLAIMS            an unsigned token ("alg":"none")
  oidc_tokens.py hs256-pub DIR KID CLAIMS
                                        an HS256 token whose secret is the
                                        RSA key KID's public key (PEM), the
                                        classic algorithm-confusion attack
"""
import base64
import json
import sys

from jwcrypto import jwk, jws


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load(directory, kid):
    with open("%s/%s.json" % (directory, kid)) as f:
        return jwk.JWK.from_json(f.read())


def signed(key, alg, kid, claims):
    token = jws.JWS(json.dumps(claims).encode())
    token.add_signature(key, alg, protected=json.dumps(
        {"alg": alg, "kid": kid, "typ": "JWT"}))
    return token.serialize(compact=True)


def main(argv):
    cmd = argv[1]
    if cmd == "key":
        directory, kid, kind = argv[2:5]
        key = jwk.JWK.generate(kty="RSA", size=2048, kid=kid) if kind == "rsa" \
            else jwk.JWK.generate(kty="EC", crv="P-256", kid=kid)
        with open("%s/%s.json" % (directory, kid), "w") as f:
            f.write(key.export_private())
    elif cmd == "jwks":
        keys = [json.loads(load(argv[2], kid).export_public()) for kid in argv[3:]]
        print(json.dumps({"keys": keys}))
    elif cmd == "sign":
        key = load(argv[2], argv[3])
        alg = "RS256" if key["kty"] == "RSA" else "ES256"
        kid = argv[5] if len(argv) > 5 else argv[3]
        print(signed(key, alg, kid, json.loads(argv[4])))
    elif cmd == "none":
        header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        print("%s.%s." % (header, b64(argv[2].encode())))
    elif cmd == "hs256-pub":
        pem = load(argv[2], argv[3]).export_to_pem(private_key=False)
        secret = jwk.JWK(kty="oct", k=b64(pem))
        print(signed(secret, "HS256", argv[3], json.loads(argv[4])))
    else:
        sys.exit("unknown command " + cmd)


main(sys.argv)
