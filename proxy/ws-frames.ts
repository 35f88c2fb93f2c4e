// Tracks WebSocket frame boundaries in one direction of a raw byte stream. Towards
// the browser it lets the proxy inject its own control frames (an idle ping, a
// 1011 close) only between frames, never inside one; from the browser it notes
// whether a data frame (continuation, text, binary) went by, which is what counts
// as a person's use: control frames (ping, pong, close) are keep-alive and
// handshake, not use. It reads frame headers (masked or not; 7, 16 and 64-bit
// lengths; split across chunks or many in one) and skips payloads; it never
// copies data.
export class FrameBoundaryTracker {
  #remaining = 0;
  readonly #header: number[] = [];
  #need = 2;
  /** A close frame went by: the sender has finished the WebSocket closing handshake. */
  closeSeen = false;
  /** A data frame (opcode 0x0, 0x1 or 0x2) began since the owner last cleared it. */
  dataSeen = false;

  get atBoundary(): boolean {
    return this.#remaining === 0 && this.#header.length === 0;
  }

  feed(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, n - i);
        this.#remaining -= take;
        i += take;
        continue;
      }
      // A whole short header in this chunk (the usual case): read it in place.
      if (this.#header.length === 0 && n - i >= 2) {
        const b1 = chunk[i + 1]!;
        const len7 = b1 & 0x7f;
        const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
        if (n - i >= need) {
          this.#opcode(chunk[i]!);
          this.#remaining =
            len7 < 126 ? len7 : len7 === 126 ? chunk.readUInt16BE(i + 2) : long(chunk, i + 2);
          i += need;
          continue;
        }
      }
      this.#header.push(chunk[i++]!);
      if (this.#header.length === 1) this.#opcode(this.#header[0]!);
      if (this.#header.length === 2) {
        const len7 = this.#header[1]! & 0x7f;
        const masked = (this.#header[1]! & 0x80) !== 0;
        this.#need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      }
      if (this.#header.length >= 2 && this.#header.length === this.#need) {
        this.#remaining = payloadLength(this.#header);
        this.#header.length = 0;
        this.#need = 2;
      }
    }
  }

  #opcode(b0: number): void {
    const op = b0 & 0x0f;
    if (op <= 0x2) this.dataSeen = true;
    else if (op === 0x8) this.closeSeen = true;
  }
}

/** A 64-bit payload length (as a number: lengths beyond 2^53 do not occur). */
function long(b: Buffer | number[], at: number): number {
  let v = 0;
  for (let k = at; k < at + 8; k++) v = v * 256 + b[k]!;
  return v;
}

function payloadLength(h: number[]): number {
  const len7 = h[1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return (h[2]! << 8) | h[3]!;
  return long(h, 2);
}

/** An unmasked (server-to-client) ping with no payload. */
export const PING_FRAME = Buffer.from([0x89, 0x00]);

/** An unmasked close frame with a status code. */
export function closeFrame(code: number): Buffer {
  return Buffer.from([0x88, 0x02, (code >> 8) & 0xff, code & 0xff]);
}
