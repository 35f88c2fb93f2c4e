// test/support/s3rver.ts in a process of its own, run with --openssl-legacy-provider:
// s3rver makes ListObjectsV2 continuation tokens with DES, which Node 24's OpenSSL
// refuses without it, so a listing over 1,000 keys would fail in the test process.
// Prints the endpoint as one JSON line; closes when its stdin closes.
import { startS3rver } from '../../support/s3rver.ts';

const s3 = await startS3rver();
process.stdout.write(
  `${JSON.stringify({ url: s3.url, bucket: s3.bucket, credentials: s3.credentials, region: s3.region })}\n`,
);
process.stdin.resume();
process.stdin.on('end', () => void s3.close().then(() => process.exit(0)));
