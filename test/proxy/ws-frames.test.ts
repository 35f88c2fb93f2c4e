// The frame reader the proxy runs over each direction of a relayed WebSocket:
// boundaries and, from the browser, whether a data frame went by. Masked frames,
// 7/16/64-bit lengths, frames split anywhere across chunks and many per chunk.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameBoundaryTracker } from '../../proxy/ws-frames.ts';

/** A masked client frame (mask key zero, so the payload bytes are as given). */
function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const n = payload.length;
  const len =
    n < 126
      ? Buffer.from([0x80 | n])
      : n < 65536
        ? Buffer.from([0x80 | 126, n >> 8, n & 0xff])
        : Buffer.concat([Buffer.from([0x80 | 127]), u64(n)]);
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode]), len, Buffer.alloc(4), payload]);
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Feeds `bytes` in pieces of `size` and reports what the reader saw. */
function read(bytes: Buffer, size: number): { data: boolean; boundary: boolean; close: boolean } {
  const t = new FrameBoundaryTracker();
  for (let i = 0; i < bytes.length; i += size) t.feed(bytes.subarray(i, i + size));
  return { data: t.dataSeen, boundary: t.atBoundary, close: t.closeSeen };
}

// Control payloads full of bytes that read as data-frame headers if the reader lost its place.
const decoy = Buffer.alloc(125, 0x81);

test('pings, pongs and closes are not data, however they are chunked', () => {
  const controls = Buffer.concat([
    frame(0x9, decoy),
    frame(0xa, decoy),
    frame(0x9, Buffer.alloc(0)),
    frame(0x8, Buffer.from([0x03, 0xe8])),
  ]);
  for (const size of [1, 2, 3, 5, 7, 64, 131, controls.length]) {
    assert.deepEqual(
      read(controls, size),
      { data: false, boundary: true, close: true },
      `size ${size}`,
    );
  }
});

test('text, binary and continuation frames are data, with 7, 16 and 64-bit lengths', () => {
  const cases: [string, Buffer][] = [
    ['text, 7-bit', frame(0x1, Buffer.from('hi'))],
    ['binary, 16-bit', frame(0x2, Buffer.alloc(300, 0x89))],
    ['binary, 64-bit', frame(0x2, Buffer.alloc(70_000, 0x89))],
    ['continuation alone', frame(0x0, Buffer.alloc(10, 0x89))],
  ];
  for (const [what, bytes] of cases) {
    for (const size of [1, 3, 1000, bytes.length]) {
      const seen = read(Buffer.concat([frame(0x9, decoy), bytes, frame(0xa, decoy)]), size);
      assert.deepEqual(seen, { data: true, boundary: true, close: false }, `${what}, size ${size}`);
    }
  }
});

test('a fragmented message: its first frame and its continuation each count', () => {
  const t = new FrameBoundaryTracker();
  t.feed(frame(0x1, Buffer.from('hel'), false));
  assert.equal(t.dataSeen, true);
  t.dataSeen = false;
  // A ping may come between the fragments of a message.
  t.feed(frame(0x9, decoy));
  assert.equal(t.dataSeen, false);
  t.feed(frame(0x0, Buffer.from('lo'), true));
  assert.equal(t.dataSeen, true);
  assert.equal(t.atBoundary, true);
});

test('inside a frame is not a boundary; a 64-bit length is skipped whole', () => {
  const big = frame(0x2, Buffer.alloc(70_000));
  const t = new FrameBoundaryTracker();
  t.feed(big.subarray(0, 5));
  assert.equal(t.atBoundary, false, 'in the header');
  t.feed(big.subarray(5, 20_000));
  assert.equal(t.atBoundary, false, 'in the payload');
  t.dataSeen = false;
  t.feed(big.subarray(20_000));
  assert.equal(t.atBoundary, true);
  assert.equal(t.dataSeen, false, 'payload bytes are not read as frames');
});
