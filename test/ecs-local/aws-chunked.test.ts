// The aws-chunked decoder gives back exactly the object's bytes however the
// encoded body is split into reads, and refuses a body that is not well formed.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { AwsChunkedDecoder } from '../../ecs-local/aws-chunked.ts';

async function decode(pieces: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(pieces).pipe(new AwsChunkedDecoder()))
    out.push(chunk as Buffer);
  return Buffer.concat(out);
}

const body = Buffer.from(
  '5\r\nhello\r\nb;chunk-signature=x\r\n, world\r\n!!\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n',
);

test('decodes whole, split at every byte, and split at random places', async () => {
  const want = Buffer.from('hello, world\r\n!!');
  assert.ok((await decode([body])).equals(want));
  assert.ok((await decode([...body].map((b) => Buffer.from([b])))).equals(want));
  for (let i = 1; i < body.length; i += 7) {
    assert.ok(
      (await decode([body.subarray(0, i), body.subarray(i)])).equals(want),
      `split at ${i}`,
    );
  }
});

test('refuses a body cut off inside a chunk, a bad size and a missing CRLF', async () => {
  await assert.rejects(decode([Buffer.from('5\r\nhel')]), /ended inside a chunk/);
  await assert.rejects(decode([Buffer.from('zz\r\nhello\r\n0\r\n\r\n')]), /not hexadecimal/);
  await assert.rejects(decode([Buffer.from('5\r\nhelloXX0\r\n\r\n')]), /CRLF/);
});
