#!/usr/bin/env node
// Local S3 server for the Showcase stack and its tests.
//
// Wraps @20minutes/s3rver, which verifies AWS Signature Version 4 on every
// request (header-signed and presigned).  Its package ships no working
// command-line entry point, so this file starts it with the options the
// stack needs: loopback address, a port, a data directory, the bucket, and
// the access key pair the clients are configured with.
//
// Usage: s3-server.js DIR PORT BUCKET [ADDRESS]
// Credentials: S3_LOCAL_ACCESS_KEY / S3_LOCAL_SECRET_KEY (default S3RVER/S3RVER);
// S3_LOCAL_EXTRA_KEYS="ID:SECRET,..." accepts more key pairs (rotating keys).
'use strict'

const S3rver = require('@20minutes/s3rver')
const AWSAccount = require('@20minutes/s3rver/lib/models/account')

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
    configureBuckets: [{ name: bucket, configs: [] }],
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
