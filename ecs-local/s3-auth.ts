// S3's SigV4 authentication, as S3 checks it: an `Authorization` header (with
// `x-amz-content-sha256`, and `x-amz-security-token` for session credentials) or
// a presigned query (X-Amz-Credential ... X-Amz-Signature, X-Amz-Expires at
// most 7 days). The signature is computed again with @smithy/signature-v4 over
// the request as received, S3-style (the path not encoded again), and compared
// in constant time. Who signed it: ecs-local's own pair (the account's admin) or
// a task's session credentials.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AUTH_RE, MAX_SKEW_MS, parseAmzDate, Sha256 } from './auth.ts';
import type { SessionCredentials } from './task-credentials.ts';

export type S3Principal = { kind: 'admin' } | { kind: 'session'; session: SessionCredentials };

export interface S3AuthError {
  code: string;
  message: string;
  status: number;
}

export type KeyLookup = (
  accessKeyId: string,
) =>
  | { secretAccessKey: string; sessionToken?: string; principal: S3Principal }
  | { error: S3AuthError }
  | undefined;

export interface IncomingS3Request {
  method: string;
  /** The raw request target (path and query, as sent). */
  url: string;
  headers: IncomingHttpHeaders;
}

/** The query parameters of presigned authentication (never forwarded). */
export const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
];

const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

const fail = (code: string, message: string, status = 403): S3AuthError => ({
  code,
  message,
  status,
});

const MISMATCH = fail(
  'SignatureDoesNotMatch',
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
);

/** The SigV4 scope's service of a request (header or presigned), if it is signed. */
export function signedService(url: string, headers: IncomingHttpHeaders): string | undefined {
  const auth = header(headers, 'authorization');
  if (auth) return AUTH_RE.exec(auth.trim())?.[4];
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const credential = new URLSearchParams(url.slice(q + 1)).get('X-Amz-Credential');
  return credential?.split('/')[3];
}

function splitUrl(url: string): { path: string; params: URLSearchParams } {
  const q = url.indexOf('?');
  return {
    path: q < 0 ? url : url.slice(0, q),
    params: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
  };
}

function queryRecord(
  params: URLSearchParams,
  skip: Set<string>,
): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    if (skip.has(k)) continue;
    const prev = query[k];
    query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return query;
}

/** Who signed the request, or S3's error for why it is refused. */
export async function authenticateS3(
  req: IncomingS3Request,
  lookup: KeyLookup,
  now = Date.now(),
): Promise<{ principal: S3Principal } | { error: S3AuthError }> {
  const { params } = splitUrl(req.url);
  const authorization = header(req.headers, 'authorization');
  if (authorization && params.has('X-Amz-Credential')) {
    return { error: fail('InvalidArgument', 'Only one auth mechanism allowed.', 400) };
  }
  if (authorization) return verifyHeader(req, authorization, lookup, now);
  if (params.has('X-Amz-Credential') || params.has('X-Amz-Signature')) {
    return verifyPresigned(req, params, lookup, now);
  }
  return { error: fail('AccessDenied', 'Access Denied') };
}

function resolveKey(
  lookup: KeyLookup,
  accessKeyId: string,
  givenToken: string | undefined,
):
  | { key: { secretAccessKey: string; sessionToken?: string }; principal: S3Principal }
  | { error: S3AuthError } {
  const found = lookup(accessKeyId);
  if (!found) {
    return {
      error: fail(
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      ),
    };
  }
  if ('error' in found) return found;
  if (found.sessionToken !== undefined) {
    const a = Buffer.from(found.sessionToken);
    const b = Buffer.from(givenToken ?? '');
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      return {
        error: fail('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400),
      };
    }
  }
  return { key: found, principal: found.principal };
}

function signer(
  accessKeyId: string,
  key: { secretAccessKey: string; sessionToken?: string },
  region: string,
): SignatureV4 {
  return new SignatureV4({
    credentials: {
      accessKeyId,
      secretAccessKey: key.secretAccessKey,
      ...(key.sessionToken !== undefined ? { sessionToken: key.sessionToken } : {}),
    },
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

async function verifyHeader(
  req: IncomingS3Request,
  authorization: string,
  lookup: KeyLookup,
  now: number,
): Promise<{ principal: S3Principal } | { error: S3AuthError }> {
  const m = AUTH_RE.exec(authorization.trim());
  if (!m) {
    return {
      error: fail('AuthorizationHeaderMalformed', 'The authorization header is malformed.', 400),
    };
  }
  const [, accessKeyId, day, region, service, signedList, signature] = m as unknown as string[];
  if (service !== 's3') {
    return {
      error: fail(
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; incorrect service "${service}". This endpoint belongs to "s3".`,
        400,
      ),
    };
  }
  const amzDate = header(req.headers, 'x-amz-date') ?? '';
  const at = parseAmzDate(amzDate);
  if (at === undefined) {
    return {
      error: fail('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header'),
    };
  }
  if (Math.abs(now - at) > MAX_SKEW_MS) {
    return {
      error: fail(
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
      ),
    };
  }
  if (day !== amzDate.slice(0, 8)) return { error: MISMATCH };
  const payload = header(req.headers, 'x-amz-content-sha256');
  if (payload === undefined) {
    return {
      error: fail(
        'InvalidRequest',
        'Missing required header for this request: x-amz-content-sha256',
        400,
      ),
    };
  }
  const signed = signedList!.split(';');
  if (!signed.includes('host')) return { error: MISMATCH };
  const resolved = resolveKey(lookup, accessKeyId!, header(req.headers, 'x-amz-security-token'));
  if ('error' in resolved) return resolved;
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(req.headers, name);
    if (value === undefined) return { error: MISMATCH };
    headers[name] = value;
  }
  const unsignable = new Set<string>();
  if (!signed.includes('x-amz-content-sha256')) {
    headers['x-amz-content-sha256'] = payload;
    unsignable.add('x-amz-content-sha256');
  }
  const { path, params } = splitUrl(req.url);
  const expected = await signer(accessKeyId!, resolved.key, region!).sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path,
      query: queryRecord(params, new Set()),
      headers,
    },
    { signingDate: new Date(at), signableHeaders: new Set(signed), unsignableHeaders: unsignable },
  );
  const again = AUTH_RE.exec(String(expected.headers.authorization ?? ''));
  const ok =
    again !== null &&
    again[5] === signedList &&
    timingSafeEqual(Buffer.from(again[6]!, 'hex'), Buffer.from(signature!, 'hex'));
  return ok ? { principal: resolved.principal } : { error: MISMATCH };
}

async function verifyPresigned(
  req: IncomingS3Request,
  params: URLSearchParams,
  lookup: KeyLookup,
  now: number,
): Promise<{ principal: S3Principal } | { error: S3AuthError }> {
  const queryError = (message: string) => ({
    error: fail('AuthorizationQueryParametersError', message, 400),
  });
  if (params.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    return queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const credential = params.get('X-Amz-Credential') ?? '';
  const signature = params.get('X-Amz-Signature') ?? '';
  const signedList = params.get('X-Amz-SignedHeaders') ?? '';
  const amzDate = params.get('X-Amz-Date') ?? '';
  const expiresText = params.get('X-Amz-Expires') ?? '';
  const scope = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(credential);
  if (!scope || !/^[0-9a-f]{64}$/.test(signature) || !/^[a-z0-9;_-]+$/.test(signedList)) {
    return queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const [, accessKeyId, day, region, service] = scope as unknown as string[];
  if (service !== 's3')
    return queryError(
      `Error parsing the X-Amz-Credential parameter; incorrect service "${service}". This endpoint belongs to "s3".`,
    );
  const at = parseAmzDate(amzDate);
  if (at === undefined || day !== amzDate.slice(0, 8)) {
    return queryError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  if (!/^\d+$/.test(expiresText)) return queryError('X-Amz-Expires should be a number');
  const expires = Number(expiresText);
  if (expires < 1 || expires > MAX_PRESIGN_SECONDS) {
    return queryError(
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }
  if (now > at + expires * 1000) return { error: fail('AccessDenied', 'Request has expired') };
  if (at - now > MAX_SKEW_MS) return { error: fail('AccessDenied', 'Request is not valid yet') };
  const signed = signedList.split(';');
  if (!signed.includes('host')) return { error: MISMATCH };
  const resolved = resolveKey(
    lookup,
    accessKeyId!,
    params.get('X-Amz-Security-Token') ?? undefined,
  );
  if ('error' in resolved) return resolved;
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(req.headers, name);
    if (value === undefined) return { error: MISMATCH };
    headers[name] = value;
  }
  // A presigned request's payload is never signed; the header only tells the signer so.
  headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const { path } = splitUrl(req.url);
  const presigned = await signer(accessKeyId!, resolved.key, region!).presign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path,
      query: queryRecord(params, new Set(['X-Amz-Signature'])),
      headers,
    },
    {
      signingDate: new Date(at),
      expiresIn: expires,
      signableHeaders: new Set(signed),
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      unhoistableHeaders: new Set([...signed, 'x-amz-content-sha256']),
    },
  );
  const computed = String(presigned.query?.['X-Amz-Signature'] ?? '');
  const ok =
    presigned.query?.['X-Amz-SignedHeaders'] === signedList &&
    computed.length === 64 &&
    timingSafeEqual(Buffer.from(computed, 'hex'), Buffer.from(signature, 'hex'));
  return ok ? { principal: resolved.principal } : { error: MISMATCH };
}
