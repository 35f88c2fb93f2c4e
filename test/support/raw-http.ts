// Raw HTTP/1.1 over a socket, for requests fetch and undici refuse to send or
// rewrite: dot segments, double slashes, bytes not valid in a URL, absolute-form
// targets, a Host other than the address, hop-by-hop headers.
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-cased names; the last value of a repeated header. */
  headers: Record<string, string>;
  /** The body, de-chunked, as UTF-8. */
  body: string;
}

function decodeChunked(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    if (nl < 0) return out;
    const size = Number.parseInt(rest.slice(0, nl), 16);
    if (!size) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

/**
 * Sends one request to `baseUrl`'s host and port, exactly as given, and reads the
 * answer until the server closes. `Host` (default: the URL's) and `Connection`
 * (default: close) are added unless `headers` names them.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  const u = new URL(baseUrl);
  const named = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0)
        return reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const h: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        h[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      let payload = Buffer.from(text.slice(end + 4), 'latin1').toString('utf8');
      if (h['transfer-encoding'] === 'chunked') payload = decodeChunked(payload);
      resolve({ status: Number(statusLine!.split(' ')[1]), headers: h, body: payload });
    });
    const bodyBuf =
      body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const head = [
      `${method} ${target} HTTP/1.1`,
      ...(named.has('host') ? [] : [`Host: ${u.host}`]),
      ...(named.has('connection') ? [] : ['Connection: close']),
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ...(bodyBuf ? [`Content-Length: ${bodyBuf.length}`] : []),
    ].join('\r\n');
    socket.write(Buffer.from(`${head}\r\n\r\n`, 'latin1'));
    if (bodyBuf) socket.write(bodyBuf);
  });
}
