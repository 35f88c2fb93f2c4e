// S3's XML on the wire: its error document, the answers the front gives itself
// (ListParts), and the DeleteObjects request body it must read to authorize.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { UploadPart } from './s3-backend.ts';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });
const parser = new XMLParser({
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => name === 'Object',
});
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export const MAX_DELETE_KEYS = 1000;

export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const xml = (body: Record<string, unknown>) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(body) as string}`;

export function sendS3Error(
  res: ServerResponse,
  err: { code: string; message: string; status: number },
  extra: Record<string, string> = {},
): void {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const text = xml({
    Error: { Code: err.code, Message: err.message, ...extra, RequestId: requestId },
  });
  res.writeHead(err.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
    'x-amz-request-id': requestId,
  });
  res.end(text);
}

export function sendXml(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = xml(body);
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function listPartsXml(
  bucket: string,
  key: string,
  uploadId: string,
  parts: UploadPart[],
): Record<string, unknown> {
  return {
    ListPartsResult: {
      '@_xmlns': XMLNS,
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumberMarker: 0,
      NextPartNumberMarker: parts.at(-1)?.partNumber ?? 0,
      MaxParts: 1000,
      IsTruncated: false,
      Part: parts.map((p) => ({
        PartNumber: p.partNumber,
        LastModified: p.lastModified.toISOString(),
        ETag: p.etag,
        Size: p.size,
      })),
    },
  };
}

const MALFORMED = () =>
  new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema.',
    400,
  );

/** The keys a DeleteObjects body names (at most 1,000, as S3 allows). */
export function parseDeleteKeys(body: string): string[] {
  let doc: { Delete?: { Object?: { Key?: unknown; VersionId?: unknown }[] } };
  try {
    doc = parser.parse(body, true) as typeof doc;
  } catch {
    throw MALFORMED();
  }
  const objects = doc.Delete?.Object;
  if (!Array.isArray(objects) || objects.length === 0) throw MALFORMED();
  if (objects.length > MAX_DELETE_KEYS) throw MALFORMED();
  return objects.map((o) => {
    if (typeof o.Key !== 'string' || o.Key === '') throw MALFORMED();
    if (o.VersionId !== undefined) {
      throw new S3Error('NotImplemented', 'Deleting object versions is not implemented.', 501);
    }
    return o.Key;
  });
}
