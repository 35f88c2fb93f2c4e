// GetObject's response-* parameters (a presigned download's
// response-content-disposition, ...): S3 honours them on signed requests, where
// the signature covers them. s3rver refuses them on what it sees as an anonymous
// request (the front strips the signature), so the front takes them out of what
// it forwards and sets the headers on the answer itself.
import { type ServerResponse, validateHeaderValue } from 'node:http';
import { S3Error } from './s3-xml.ts';

const OVERRIDABLE: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

/**
 * Removes the response-* parameters from `forwarded` and returns the headers they
 * ask for; an unknown response-* parameter or a value no header may carry is
 * refused as S3 refuses it.
 */
export function takeResponseOverrides(forwarded: URLSearchParams): [string, string][] {
  const headers: [string, string][] = [];
  for (const [name, value] of [...forwarded]) {
    if (!name.startsWith('response-')) continue;
    const header = OVERRIDABLE[name];
    if (!header) {
      throw new S3Error(
        'InvalidArgument',
        `${name} is not in the set of overridable response headers. Please refer to the S3 API documentation for a complete list of overridable response headers.`,
        400,
      );
    }
    try {
      validateHeaderValue(header, value);
    } catch {
      throw new S3Error(
        'InvalidArgument',
        `${name} must be a value an HTTP header can carry (ASCII, no line breaks).`,
        400,
      );
    }
    headers.push([header, value]);
  }
  for (const name of Object.keys(OVERRIDABLE)) forwarded.delete(name);
  return headers;
}

/** Sets `headers` on `res` when it answers with success, over what s3rver set. */
export function applyOnSuccess(res: ServerResponse, headers: [string, string][]): void {
  if (headers.length === 0) return;
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((statusCode: number, ...rest: unknown[]) => {
    if (statusCode >= 200 && statusCode < 300) {
      for (const [name, value] of headers) res.setHeader(name, value);
      // Headers given to writeHead itself would win over setHeader's: drop ours from them.
      const last = rest.at(-1);
      if (last && typeof last === 'object' && !Array.isArray(last)) {
        const given = last as Record<string, unknown>;
        for (const k of Object.keys(given)) {
          if (headers.some(([name]) => name.toLowerCase() === k.toLowerCase())) delete given[k];
        }
      }
    }
    return writeHead(statusCode, ...rest);
  }) as typeof res.writeHead;
}
