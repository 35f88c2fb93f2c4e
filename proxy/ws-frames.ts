// Tracks WebSocket frame boundaries in one direction of a raw byte stream, so the
// proxy can inject its own control frames (an idle ping, a 1011 close) only
// between frames, never inside one. It reads frame headers and skips payloads;
// it never copies data.
export class FrameBoundaryTracker {
  #remaining = 0;
  readonly #header: number[] = [];
  #need = 2;
  /** A close frame went by: the sender has finished the WebSocket closing handshake. */
  closeSeen = false;

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
      this.#header.push(chunk[i++]!);
      if (this.#header.length === 1 && (this.#header[0]! & 0x0f) === 0x8) this.closeSeen = true;
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
}

function payloadLength(h: number[]): number {
  const len7 = h[1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return (h[2]! << 8) | h[3]!;
  let v = 0;
  for (let k = 2; k < 10; k++) v = v * 256 + h[k]!;
  return v;
}

/** An unmasked (server-to-client) ping with no payload. */
export const PING_FRAME = Buffer.from([0x89, 0x00]);

/** An unmasked close frame with a status code. */
export function closeFrame(code: number): Buffer {
  return Buffer.from([0x88, 0x02, (code >> 8) & 0xff, code & 0xff]);
}
