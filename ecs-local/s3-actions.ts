// Which IAM action(s), resource ARN(s) and condition keys an S3 request needs, as
// S3 documents for each operation. Pure, so each operation is unit-tested. A
// request that maps to no known operation (an unknown subresource, a query
// parameter that would change what the operation does) is unmapped: the front
// denies it rather than forwarding something it did not check.
import type { AuthorizationRequest } from './policy-evaluation.ts';

export interface S3Request {
  method: string;
  bucket: string;
  /** The object key, percent-decoded; '' for a bucket-level request. */
  key: string;
  /** Query parameters (decoded), without the SigV4 presign parameters. */
  query: Record<string, string>;
  /** The decoded `x-amz-copy-source` (bucket and key), when the request has one. */
  copySource?: { bucket: string; key: string } | undefined;
  /** DeleteObjects: the keys its XML body names. */
  deleteKeys?: string[] | undefined;
}

export interface MappedRequest {
  /** S3's name for the operation, e.g. ListObjectsV2. */
  operation: string;
  requests: AuthorizationRequest[];
}

const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

// Parameters that only shape an answer; any other parameter is a subresource or
// an option this map does not know, and the request stays unmapped.
const SDK = ['x-id'];
const LIST = [
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'marker',
  'fetch-owner',
];
const GET = [
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'partNumber',
];

function only(query: Record<string, string>, allowed: string[]): boolean {
  return Object.keys(query).every((k) => allowed.includes(k) || SDK.includes(k));
}

function object(action: string, req: S3Request, key = req.key): AuthorizationRequest {
  return { action, resource: objectArn(req.bucket, key), context: {} };
}

/** The operation and what it needs, or undefined when the request is not one this front knows. */
export function mapS3Request(req: S3Request): MappedRequest | undefined {
  const q = req.query;
  const has = (name: string) => Object.hasOwn(q, name);
  const method = req.method.toUpperCase();
  if (req.bucket === '') {
    if (method === 'GET' && only(q, ['max-buckets', 'continuation-token', 'prefix'])) {
      return {
        operation: 'ListBuckets',
        requests: [{ action: 's3:ListAllMyBuckets', resource: '*', context: {} }],
      };
    }
    return undefined;
  }
  if (req.key === '') return mapBucket(req, method);
  if (req.copySource && !(method === 'PUT' && only(q, []))) return undefined;
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (
        method === 'GET' &&
        has('uploadId') &&
        only(q, ['uploadId', 'max-parts', 'part-number-marker'])
      ) {
        return { operation: 'ListParts', requests: [object('s3:ListMultipartUploadParts', req)] };
      }
      if (!only(q, GET)) return undefined;
      return {
        operation: method === 'GET' ? 'GetObject' : 'HeadObject',
        requests: [object('s3:GetObject', req)],
      };
    case 'PUT':
      if (req.copySource) {
        return {
          operation: 'CopyObject',
          requests: [
            object('s3:PutObject', req),
            {
              action: 's3:GetObject',
              resource: objectArn(req.copySource.bucket, req.copySource.key),
              context: {},
            },
          ],
        };
      }
      if (has('uploadId') && has('partNumber') && only(q, ['uploadId', 'partNumber'])) {
        return { operation: 'UploadPart', requests: [object('s3:PutObject', req)] };
      }
      if (!only(q, [])) return undefined;
      return { operation: 'PutObject', requests: [object('s3:PutObject', req)] };
    case 'POST':
      if (has('uploads') && only(q, ['uploads'])) {
        return { operation: 'CreateMultipartUpload', requests: [object('s3:PutObject', req)] };
      }
      if (has('uploadId') && only(q, ['uploadId'])) {
        return { operation: 'CompleteMultipartUpload', requests: [object('s3:PutObject', req)] };
      }
      return undefined;
    case 'DELETE':
      if (has('uploadId') && only(q, ['uploadId'])) {
        return {
          operation: 'AbortMultipartUpload',
          requests: [object('s3:AbortMultipartUpload', req)],
        };
      }
      if (!only(q, [])) return undefined;
      return { operation: 'DeleteObject', requests: [object('s3:DeleteObject', req)] };
    default:
      return undefined;
  }
}

function mapBucket(req: S3Request, method: string): MappedRequest | undefined {
  const q = req.query;
  const bucket = bucketArn(req.bucket);
  if ((method === 'GET' || method === 'HEAD') && only(q, LIST)) {
    const context: Record<string, string> = {};
    for (const key of ['prefix', 'delimiter', 'max-keys']) {
      const value = q[key];
      if (value !== undefined) context[`s3:${key}`] = value;
    }
    const operation =
      method === 'HEAD' ? 'HeadBucket' : q['list-type'] === '2' ? 'ListObjectsV2' : 'ListObjects';
    return { operation, requests: [{ action: 's3:ListBucket', resource: bucket, context }] };
  }
  if (method === 'GET' && Object.hasOwn(q, 'location') && only(q, ['location'])) {
    return {
      operation: 'GetBucketLocation',
      requests: [{ action: 's3:GetBucketLocation', resource: bucket, context: {} }],
    };
  }
  if (method === 'POST' && Object.hasOwn(q, 'delete') && only(q, ['delete'])) {
    const keys = req.deleteKeys;
    if (!keys || keys.length === 0) return undefined;
    return {
      operation: 'DeleteObjects',
      requests: keys.map((key) => object('s3:DeleteObject', req, key)),
    };
  }
  return undefined;
}
