// Decodes an `aws-chunked` body with unsigned chunks
// (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`, what recent SDKs and
// botocore send by default for a streamed upload): `<hex size>\r\n<bytes>\r\n`
// repeated, a `0\r\n` chunk, then trailer lines (the checksum) and `\r\n`. Only the
// object's bytes come out; the trailing checksum is not checked. Streaming, with
// backpressure: nothing is held but a partial chunk header.
import { Transform, type TransformCallback } from 'node:stream';

export const UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

const MAX_LINE = 4096;

export class AwsChunkedDecoder extends Transform {
  #line = '';
  #remaining = 0;
  /** 'size' (reading a chunk header), 'data', 'crlf' (after data), 'trailer', 'done'. */
  #state: 'size' | 'data' | 'crlf' | 'trailer' | 'done' = 'size';
  #crlf = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    try {
      while (i < chunk.length) {
        if (this.#state === 'data') {
          const take = Math.min(this.#remaining, chunk.length - i);
          this.push(chunk.subarray(i, i + take));
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) {
            this.#state = 'crlf';
            this.#crlf = 0;
          }
        } else if (this.#state === 'crlf') {
          const expected = this.#crlf === 0 ? 0x0d : 0x0a;
          if (chunk[i] !== expected) throw new Error('aws-chunked: a chunk does not end with CRLF');
          i += 1;
          this.#crlf += 1;
          if (this.#crlf === 2) this.#state = 'size';
        } else if (this.#state === 'done') {
          i = chunk.length;
        } else {
          const nl = chunk.indexOf(0x0a, i);
          const end = nl < 0 ? chunk.length : nl + 1;
          this.#line += chunk.toString('latin1', i, end);
          i = end;
          if (this.#line.length > MAX_LINE)
            throw new Error('aws-chunked: a header line is too long');
          if (nl >= 0) this.#lineDone(this.#line.replace(/\r?\n$/, ''));
        }
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  #lineDone(line: string): void {
    this.#line = '';
    if (this.#state === 'trailer') {
      if (line === '') this.#state = 'done';
      return;
    }
    const m = /^([0-9a-fA-F]{1,16})(;.*)?$/.exec(line);
    if (!m) throw new Error('aws-chunked: a chunk size is not hexadecimal');
    const size = Number.parseInt(m[1]!, 16);
    if (size === 0) {
      this.#state = 'trailer';
      return;
    }
    this.#remaining = size;
    this.#state = 'data';
  }

  override _flush(callback: TransformCallback): void {
    callback(
      this.#state === 'done' || this.#state === 'trailer'
        ? undefined
        : new Error('aws-chunked: the body ended inside a chunk'),
    );
  }
}
