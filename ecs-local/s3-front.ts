// The S3 endpoint on ecs-local's own URL (path-style /<bucket>/<key>): every
// request is authenticated (s3-auth.ts), mapped to the IAM actions it needs
// (s3-actions.ts) and, for a task's session credentials, checked against its
// role's policies (policy-evaluation.ts) before it reaches s3rver (s3-backend.ts)
// with its authentication stripped and its path rewritten to the key that was
// checked (ListObjectsV2 and GetObject's response-* overrides are answered here:
// s3-list.ts, s3-response-overrides.ts). Bodies and answers stream through, never buffered (but a
// DeleteObjects body, which must be read to know what it deletes).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AccessKeyPair } from './auth.ts';
import { AwsChunkedDecoder, UNSIGNED_TRAILER } from './aws-chunked.ts';
import type { FaultState } from './faults.ts';
import type { IamRoles } from './iam-roles.ts';
import { evaluateWithBoundary } from './policy-evaluation.ts';
import { mapS3Request, type S3Request } from './s3-actions.ts';
import {
  authenticateS3,
  type KeyLookup,
  PRESIGN_PARAMS,
  type S3Principal,
  signedService,
} from './s3-auth.ts';
import type { S3Backend } from './s3-backend.ts';
import { isListV2, listObjectsV2, listV2Xml, parseListV2 } from './s3-list.ts';
import { applyOnSuccess, takeResponseOverrides } from './s3-response-overrides.ts';
import { listPartsXml, parseDeleteKeys, S3Error, sendS3Error, sendXml } from './s3-xml.ts';
import type { TaskCredentials } from './task-credentials.ts';

export interface S3Bucket {
  name: string;
  corsOrigins: string[];
}

export interface S3FrontDeps {
  backend: S3Backend;
  buckets: readonly S3Bucket[];
  admin: AccessKeyPair;
  sessions: TaskCredentials;
  iam: IamRoles;
  faults: FaultState;
  accountId: string;
  logger: Logger;
}

const MAX_DELETE_BODY_BYTES = 2 * 1024 * 1024;
const MAX_KEY_BYTES = 1024;
// Headers that carry the caller's authentication: never passed on to s3rver.
const AUTH_HEADERS = [
  'authorization',
  'x-amz-security-token',
  'x-amz-date',
  'x-amz-content-sha256',
];

const denied = (message = 'Access Denied') => new S3Error('AccessDenied', message, 403);

/**
 * Keys s3rver's on-disk store cannot hold faithfully (it maps a key onto a file
 * path, so `.`/`..` segments and empty segments would alias or escape other
 * keys) are refused, as is its own file-name marker.
 */
export function checkKey(key: string): void {
  const bad = (why: string) => new S3Error('InvalidArgument', `Object key ${why}.`, 400);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new S3Error('KeyTooLongError', 'Your key is too long', 400);
  if (key.includes('\0')) throw bad('must not contain NUL');
  if (key.includes('._S3rver_')) throw bad('must not contain "._S3rver_"');
  const segments = key.split('/');
  segments.forEach((s, i) => {
    if (s === '.' || s === '..') throw bad('must not have "." or ".." segments');
    if (s === '' && i < segments.length - 1)
      throw bad('must not have empty segments (leading or double slashes)');
  });
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", 400);
  }
}

export class S3Front {
  readonly #deps: S3FrontDeps;
  readonly #bucketNames: Set<string>;

  constructor(deps: S3FrontDeps) {
    this.#deps = deps;
    this.#bucketNames = new Set(deps.buckets.map((b) => b.name));
  }

  /** Whether a request is S3's: signed for service s3, or naming one of the buckets. */
  claims(req: IncomingMessage): boolean {
    const url = req.url ?? '/';
    if (signedService(url, req.headers) === 's3') return true;
    const first = url.split(/[/?]/)[1] ?? '';
    return this.#bucketNames.has(first);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#deps.faults.current.s3Outage) {
      // As an unreachable endpoint: no answer at all.
      req.socket.destroy();
      return;
    }
    this.#cors(req, res);
    try {
      await this.#handle(req, res);
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      if (res.headersSent) res.destroy();
      else sendS3Error(res, err);
      req.resume();
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const slash = rawPath.indexOf('/', 1);
    const bucket = decode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
    const key = slash < 0 ? '' : decode(rawPath.slice(slash + 1));
    if (method === 'OPTIONS') return this.#preflight(req, res, bucket);
    const encoding = String(req.headers['content-encoding'] ?? '');
    const payload = String(req.headers['x-amz-content-sha256'] ?? '');
    const chunked = encoding.split(',').some((e) => e.trim() === 'aws-chunked');
    if (
      (chunked || payload.startsWith('STREAMING-')) &&
      !(chunked && payload === UNSIGNED_TRAILER)
    ) {
      throw new S3Error(
        'NotImplemented',
        `ecs-local decodes aws-chunked bodies only with x-amz-content-sha256: ${UNSIGNED_TRAILER} (this one: Content-Encoding ${encoding || 'none'}, x-amz-content-sha256 ${payload}); set requestChecksumCalculation WHEN_REQUIRED (AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED) to send plain bodies`,
        501,
      );
    }
    const auth = await authenticateS3({ method, url, headers: req.headers }, this.#lookup);
    if ('error' in auth) throw new S3Error(auth.error.code, auth.error.message, auth.error.status);
    if (key !== '') checkKey(key);

    const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const query: Record<string, string> = {};
    const forwarded = new URLSearchParams();
    for (const [k, v] of params) {
      // Presign parameters, and any x-amz-* (which s3rver would read as headers), stay here.
      if (PRESIGN_PARAMS.includes(k) || k.toLowerCase().startsWith('x-amz-')) continue;
      query[k] = v;
      forwarded.append(k, v);
    }
    // A listing prefix that climbs with dot segments matches nothing stored; refuse it outright.
    if (query.prefix?.split('/').some((s) => s === '.' || s === '..')) {
      throw new S3Error('InvalidArgument', 'The prefix must not have "." or ".." segments.', 400);
    }
    const request: S3Request = { method, bucket, key, query };
    const copyHeader = req.headers['x-amz-copy-source'];
    if (copyHeader !== undefined) {
      const source = parseCopySource(String(copyHeader));
      request.copySource = source;
      req.headers['x-amz-copy-source'] = `/${source.bucket}/${encodeURI(source.key)}`;
    }
    let body: Buffer | undefined;
    if (method === 'POST' && key === '' && Object.hasOwn(query, 'delete')) {
      body = await readLimited(req, MAX_DELETE_BODY_BYTES);
      request.deleteKeys = parseDeleteKeys(body.toString('utf8'));
      for (const k of request.deleteKeys) checkKey(k);
    }
    this.#authorize(auth.principal, request);

    if (method === 'GET' && key === '' && isListV2(query)) {
      const options = parseListV2(query);
      const page = await listObjectsV2(this.#deps.backend, bucket, options);
      sendXml(res, 200, listV2Xml(bucket, options, page));
      return;
    }
    if ((method === 'GET' || method === 'HEAD') && key !== '') {
      applyOnSuccess(res, takeResponseOverrides(forwarded));
    }
    const uploadId = query.uploadId;
    if (uploadId !== undefined) {
      if (!(await this.#deps.backend.uploadMatches(bucket, key, uploadId))) {
        throw new S3Error(
          'NoSuchUpload',
          'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
          404,
        );
      }
      if (method === 'DELETE') {
        await this.#deps.backend.abortUpload(bucket, uploadId);
        res.writeHead(204).end();
        return;
      }
      if (method === 'GET') {
        const parts = await this.#deps.backend.listParts(bucket, uploadId);
        sendXml(res, 200, listPartsXml(bucket, key, uploadId, parts));
        return;
      }
      const part = query.partNumber;
      if (
        part !== undefined &&
        !(/^\d{1,5}$/.test(part) && Number(part) >= 1 && Number(part) <= 10_000)
      ) {
        throw new S3Error(
          'InvalidArgument',
          'Part number must be an integer between 1 and 10000, inclusive',
          400,
        );
      }
    }
    const path =
      key === ''
        ? `/${encodeURIComponent(bucket)}`
        : `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const search = forwarded.toString();
    for (const h of AUTH_HEADERS) delete req.headers[h];
    req.url = search ? `${path}?${search}` : path;
    if (chunked) {
      this.#deps.backend.forward(replay(req, dechunk(req)), res);
      return;
    }
    this.#deps.backend.forward(body === undefined ? req : replay(req, Readable.from([body])), res);
  }

  #lookup: KeyLookup = (accessKeyId) => {
    const admin = this.#deps.admin;
    if (accessKeyId === admin.accessKeyId) {
      return { secretAccessKey: admin.secretAccessKey, principal: { kind: 'admin' } };
    }
    const found = this.#deps.sessions.lookup(accessKeyId);
    if (!found) return undefined;
    if (found.invalid) {
      return {
        error: { code: 'ExpiredToken', message: 'The provided token has expired.', status: 400 },
      };
    }
    return {
      secretAccessKey: found.session.secretAccessKey,
      sessionToken: found.session.sessionToken,
      principal: { kind: 'session', session: found.session },
    };
  };

  #authorize(principal: S3Principal, request: S3Request): void {
    if (principal.kind === 'admin') return; // the account's own admin may do anything
    const mapped = mapS3Request(request);
    if (!mapped)
      throw denied(
        'ecs-local does not authorize this request for session credentials (an operation it does not map to IAM actions).',
      );
    const { session } = principal;
    const role = this.#deps.iam.byArn(session.roleArn);
    const policies = role ? this.#deps.iam.policiesOf(role) : { identity: [], boundary: undefined };
    for (const r of mapped.requests) {
      const decision = evaluateWithBoundary(policies.identity, policies.boundary, r);
      if (decision !== 'Allow') {
        const who = `arn:aws:sts::${this.#deps.accountId}:assumed-role/${role?.name ?? 'unknown'}/${session.taskArn.split('/').at(-1)}`;
        const why =
          decision === 'ExplicitDeny'
            ? 'with an explicit deny in an identity-based policy'
            : 'because no identity-based policy allows the action';
        throw denied(
          `User: ${who} is not authorized to perform: ${r.action} on resource: "${r.resource}" ${why}`,
        );
      }
    }
  }

  #corsOrigin(req: IncomingMessage, bucket: string): string | undefined {
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return undefined;
    const config = this.#deps.buckets.find((b) => b.name === bucket);
    return config?.corsOrigins.includes(origin) ? origin : undefined;
  }

  #cors(req: IncomingMessage, res: ServerResponse): void {
    const first = decodeSafe((req.url ?? '/').split(/[/?]/)[1] ?? '');
    const origin = this.#corsOrigin(req, first);
    if (!origin) return;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', 'ETag');
    res.setHeader('vary', 'Origin');
  }

  /** A CORS preflight, answered from the bucket's configured origins without authentication. */
  #preflight(req: IncomingMessage, res: ServerResponse, bucket: string): void {
    const origin = this.#corsOrigin(req, bucket);
    const method = String(req.headers['access-control-request-method'] ?? '');
    if (!origin || !['GET', 'PUT', 'POST', 'DELETE', 'HEAD'].includes(method)) {
      throw new S3Error('AccessForbidden', 'CORSResponse: This CORS request is not allowed.', 403);
    }
    res.writeHead(200, {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': 'GET, PUT, POST, DELETE, HEAD',
      'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? '*'),
      'access-control-expose-headers': 'ETag',
      'access-control-max-age': '3000',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    });
    res.end();
  }
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `bucket/key` or `/bucket/key`, URL-encoded, as S3 reads x-amz-copy-source. */
export function parseCopySource(header: string): { bucket: string; key: string } {
  if (header.includes('?')) {
    throw new S3Error(
      'NotImplemented',
      'Copying a version (x-amz-copy-source with ?versionId) is not implemented.',
      501,
    );
  }
  const text = header.startsWith('/') ? header.slice(1) : header;
  const slash = text.indexOf('/');
  if (slash <= 0)
    throw new S3Error(
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      400,
    );
  const key = decode(text.slice(slash + 1));
  checkKey(key);
  return { bucket: decode(text.slice(0, slash)), key };
}

async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new S3Error('MalformedXML', 'The XML you provided is too large.', 400);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The object's bytes of an aws-chunked request, its headers made a plain
 * request's (the decoded length, no aws-chunked encoding, no trailer).
 */
function dechunk(req: IncomingMessage): Readable {
  const decoded = req.headers['x-amz-decoded-content-length'];
  const encodings = String(req.headers['content-encoding'])
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== 'aws-chunked' && e !== '');
  if (encodings.length > 0) req.headers['content-encoding'] = encodings.join(', ');
  else delete req.headers['content-encoding'];
  if (typeof decoded === 'string') req.headers['content-length'] = decoded;
  delete req.headers['x-amz-decoded-content-length'];
  delete req.headers['x-amz-trailer'];
  delete req.headers['transfer-encoding'];
  const decoder = new AwsChunkedDecoder();
  req.on('error', (err) => decoder.destroy(err));
  req.on('aborted', () => decoder.destroy(new Error('aborted')));
  return req.pipe(decoder);
}

/** A request to hand on with another body (one read already, or decoded). */
function replay(req: IncomingMessage, body: Readable): IncomingMessage {
  const stream = body as unknown as IncomingMessage;
  for (const name of [
    'headers',
    'rawHeaders',
    'url',
    'method',
    'httpVersion',
    'httpVersionMajor',
    'httpVersionMinor',
    'socket',
  ] as const) {
    Object.defineProperty(stream, name, { value: req[name], writable: true });
  }
  Object.defineProperty(stream, 'connection', { value: req.socket });
  return stream;
}
