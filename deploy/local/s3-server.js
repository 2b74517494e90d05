#!/usr/bin/env node
// Local S3 server for the Showcase stack and its tests.
//
// Wraps @20minutes/s3rver, which verifies AWS Signature Version 4 on every
// request (header-signed and presigned).  Its package ships no working
// command-line entry point, so this file starts it with the options the
// stack needs: loopback address, a port, a data directory, the bucket, and
// the access key pair the clients are configured with.  Unsigned object
// reads are refused, as in a private bucket.
//
// Usage: s3-server.js DIR PORT BUCKET [ADDRESS]
// Credentials: S3_LOCAL_ACCESS_KEY / S3_LOCAL_SECRET_KEY (default S3RVER/S3RVER);
// S3_LOCAL_EXTRA_KEYS="ID:SECRET,..." accepts more key pairs (rotating keys).
// S3_LOCAL_CORS_ORIGINS="http://127.0.0.1:8080,...": origins whose scripts may
// read objects (the portal's hls.js fetches HLS segments from presigned URLs
// with Range), as the bucket's CORS configuration does in AWS; empty: none.
'use strict'

const S3rver = require('@20minutes/s3rver')
const AWSAccount = require('@20minutes/s3rver/lib/models/account')

// The bucket's CORS configuration for ORIGINS (comma-separated), the same
// rule as deploy/aws/showcase.yaml's: reads only, with Range, and the
// headers a player needs to see.  [] when there is no origin.
function corsConfig(origins) {
  const list = (origins || '').split(',').map((o) => o.trim()).filter(Boolean)
  if (!list.length) return []
  for (const o of list) {
    if (!/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]+)?$/.test(o)) {
      throw new Error(`S3_LOCAL_CORS_ORIGINS: "${o}" is not an origin (scheme://host[:port])`)
    }
  }
  return ['<CORSConfiguration><CORSRule>' +
    list.map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`).join('') +
    '<AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>' +
    '<AllowedHeader>Range</AllowedHeader>' +
    '<ExposeHeader>Content-Range</ExposeHeader><ExposeHeader>Content-Length</ExposeHeader>' +
    '<ExposeHeader>ETag</ExposeHeader>' +
    '<MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>']
}

async function main() {
  const [dir, port, bucket, address = '127.0.0.1'] = process.argv.slice(2)
  if (!dir || !port || !bucket) {
    console.error('usage: s3-server.js DIR PORT BUCKET [ADDRESS]')
    process.exit(2)
  }
  const accessKey = process.env.S3_LOCAL_ACCESS_KEY || 'S3RVER'
  const secretKey = process.env.S3_LOCAL_SECRET_KEY || 'S3RVER'
  if (accessKey !== 'S3RVER') {
    AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER')
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey)
  } else if (secretKey !== 'S3RVER') {
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey)
  }

  for (const pair of (process.env.S3_LOCAL_EXTRA_KEYS || '').split(',')) {
    const i = pair.indexOf(':')
    if (i > 0) AWSAccount.DUMMY_ACCOUNT.createKeyPair(pair.slice(0, i), pair.slice(i + 1))
  }

  const server = new S3rver({
    directory: dir,
    address,
    port: Number(port),
    silent: true,
    configureBuckets: [{ name: bucket, configs: corsConfig(process.env.S3_LOCAL_CORS_ORIGINS) }],
  })
  // The project's buckets are private in AWS: an object read that is not
  // signed (no Authorization header, no presigned query) is refused there
  // with AccessDenied, where s3rver would serve it.  The same here, ahead
  // of s3rver's own middleware (path-style: /BUCKET/KEY).
  server.middleware.unshift(async (ctx, next) => {
    const read = ctx.method === 'GET' || ctx.method === 'HEAD'
    const object = ctx.path.split('/').filter(Boolean).length >= 2
    const signed = Boolean(ctx.get('authorization')) ||
      'X-Amz-Signature' in ctx.query || 'Signature' in ctx.query
    if (read && object && !signed) {
      ctx.status = 403
      ctx.type = 'application/xml'
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
      return
    }
    await next()
  })
  const addr = await server.run()
  console.log(`s3 server listening on ${addr.address}:${addr.port} bucket=${bucket}`)

  const stop = () => server.close().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err) => {
  console.error(`s3 server: ${err.message}`)
  process.exit(1)
})
