// Only ecs-local's own caller may drive it (it runs any command it is asked to):
// every AWS API request must be SigV4-signed with the access key pair ecs-local
// was given. The signature is computed again with @smithy/signature-v4 (the AWS
// SDK's own signer) over the request as received — its method, path, query, the
// headers it says it signed and its body — and compared in constant time.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AccessKeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A fresh pair shaped like AWS's (AKIA + 16 characters; 40-character secret). */
export function generateAccessKeyPair(): AccessKeyPair {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const id = [...randomBytes(16)].map((b) => alphabet[b % 32]).join('');
  return {
    accessKeyId: `AKIA${id}`,
    secretAccessKey: randomBytes(30).toString('base64').replaceAll('+', 'A').replaceAll('/', 'B'),
  };
}

/** Why a request was refused: which of AWS's errors, in its words. */
export type AuthFailure =
  | { kind: 'missing'; message: string }
  | { kind: 'unknownKey'; message: string }
  | { kind: 'badSignature'; message: string }
  | { kind: 'expired'; message: string };

export interface SignedRequest {
  method: string;
  /** The raw request target (path and query, as sent). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How far X-Amz-Date may be from now, as AWS allows. */
export const MAX_SKEW_MS = 15 * 60_000;

export const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_-]+),\s*Signature=([0-9a-f]{64})$/;

/** node:crypto behind the SigV4 signer's hash interface (plain hash, or HMAC with a key); for any client that signs. */
export class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/**
 * Checks the request's SigV4 signature against `key` for `service` (`ecs`,
 * `ec2`, or `ecs-local` for the admin endpoint). The credential scope's region is
 * the client's own: ecs-local answers for any region. Undefined when it holds.
 */
export async function verifySignature(
  req: SignedRequest,
  key: AccessKeyPair,
  service: string,
  now = Date.now(),
): Promise<AuthFailure | undefined> {
  const authorization = header(req.headers, 'authorization');
  if (!authorization) {
    return { kind: 'missing', message: 'Missing Authentication Token' };
  }
  const m = AUTH_RE.exec(authorization.trim());
  if (!m) {
    return {
      kind: 'badSignature',
      message: 'The Authorization header is not a well-formed AWS4-HMAC-SHA256 signature.',
    };
  }
  const [, accessKeyId, day, region, scopeService, signedList, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (accessKeyId !== key.accessKeyId) {
    return {
      kind: 'unknownKey',
      message: 'The security token included in the request is invalid.',
    };
  }
  const amzDate = header(req.headers, 'x-amz-date') ?? '';
  const at = parseAmzDate(amzDate);
  if (at === undefined) {
    return { kind: 'badSignature', message: 'X-Amz-Date is missing or not a date.' };
  }
  if (Math.abs(now - at) > MAX_SKEW_MS) {
    return {
      kind: 'expired',
      message: `Signature expired: ${amzDate} is more than 15 minutes from the server's time.`,
    };
  }
  if (day !== amzDate.slice(0, 8)) {
    return { kind: 'badSignature', message: 'The credential scope date is not X-Amz-Date’s day.' };
  }
  if (scopeService !== service) {
    return {
      kind: 'badSignature',
      message: `Credential should be scoped to correct service: '${service}'.`,
    };
  }
  const signed = signedList.split(';');
  if (!signed.includes('host')) {
    return { kind: 'badSignature', message: 'The Host header must be signed.' };
  }
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  const claimed = header(req.headers, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed !== bodyHash) {
    return {
      kind: 'badSignature',
      message: 'The provided x-amz-content-sha256 header does not match what was computed.',
    };
  }
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(req.headers, name);
    if (value === undefined) {
      return { kind: 'badSignature', message: `The signed header ${name} is missing.` };
    }
    headers[name] = value;
  }
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1))) {
    const prev = query[k];
    query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  const signer = new SignatureV4({
    credentials: key,
    region,
    service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const expected = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path,
      query,
      headers,
      body: req.body,
    },
    { signingDate: new Date(at), signableHeaders: new Set(signed) },
  );
  const again = AUTH_RE.exec(String(expected.headers.authorization ?? ''));
  const ok =
    again !== null &&
    again[5] === signedList &&
    timingSafeEqual(Buffer.from(again[6]!, 'hex'), Buffer.from(signature, 'hex'));
  if (!ok) {
    return {
      kind: 'badSignature',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    };
  }
  return undefined;
}

/** `20260102T030405Z` -> epoch ms. */
export function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  return Number.isNaN(ms) ? undefined : ms;
}
