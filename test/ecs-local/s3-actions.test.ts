// Each S3 operation maps to the IAM action(s), resource ARN(s) and condition keys
// S3 documents (ecs-local/s3-actions.ts); anything else is unmapped (denied).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapS3Request, type S3Request } from '../../ecs-local/s3-actions.ts';

const map = (r: Partial<S3Request> & { method: string }) =>
  mapS3Request({ bucket: 'b', key: '', query: {}, ...r });

const only = (r: Partial<S3Request> & { method: string }) => {
  const m = map(r);
  assert.ok(m, `unmapped: ${JSON.stringify(r)}`);
  return {
    operation: m.operation,
    needs: m.requests.map((x) => [x.action, x.resource, x.context]),
  };
};

test('listing maps to s3:ListBucket on the bucket with s3:prefix, s3:delimiter and s3:max-keys', () => {
  assert.deepEqual(
    only({
      method: 'GET',
      query: {
        'list-type': '2',
        prefix: 'home/u/',
        delimiter: '/',
        'max-keys': '10',
        'x-id': 'ListObjectsV2',
      },
    }),
    {
      operation: 'ListObjectsV2',
      needs: [
        [
          's3:ListBucket',
          'arn:aws:s3:::b',
          { 's3:prefix': 'home/u/', 's3:delimiter': '/', 's3:max-keys': '10' },
        ],
      ],
    },
  );
  assert.deepEqual(only({ method: 'GET', query: { marker: 'x' } }), {
    operation: 'ListObjects',
    needs: [['s3:ListBucket', 'arn:aws:s3:::b', {}]],
  });
  assert.equal(only({ method: 'HEAD' }).operation, 'HeadBucket');
});

test('object reads map to s3:GetObject; writes (single, multipart, copy target) to s3:PutObject', () => {
  const obj = 'arn:aws:s3:::b/home/u/f.txt';
  const key = 'home/u/f.txt';
  assert.deepEqual(
    only({ method: 'GET', key, query: { 'response-content-disposition': 'attachment' } }).needs,
    [['s3:GetObject', obj, {}]],
  );
  assert.equal(only({ method: 'HEAD', key }).operation, 'HeadObject');
  assert.deepEqual(only({ method: 'PUT', key }).needs, [['s3:PutObject', obj, {}]]);
  assert.deepEqual(only({ method: 'POST', key, query: { uploads: '' } }), {
    operation: 'CreateMultipartUpload',
    needs: [['s3:PutObject', obj, {}]],
  });
  assert.deepEqual(only({ method: 'PUT', key, query: { uploadId: 'u', partNumber: '2' } }), {
    operation: 'UploadPart',
    needs: [['s3:PutObject', obj, {}]],
  });
  assert.deepEqual(only({ method: 'POST', key, query: { uploadId: 'u' } }), {
    operation: 'CompleteMultipartUpload',
    needs: [['s3:PutObject', obj, {}]],
  });
  assert.deepEqual(only({ method: 'DELETE', key, query: { uploadId: 'u' } }), {
    operation: 'AbortMultipartUpload',
    needs: [['s3:AbortMultipartUpload', obj, {}]],
  });
  assert.deepEqual(only({ method: 'GET', key, query: { uploadId: 'u' } }), {
    operation: 'ListParts',
    needs: [['s3:ListMultipartUploadParts', obj, {}]],
  });
  assert.deepEqual(only({ method: 'DELETE', key }), {
    operation: 'DeleteObject',
    needs: [['s3:DeleteObject', obj, {}]],
  });
});

test('CopyObject needs s3:PutObject on the target and s3:GetObject on the source', () => {
  assert.deepEqual(
    only({ method: 'PUT', key: 'home/u/copy', copySource: { bucket: 'b', key: 'home/v/secret' } }),
    {
      operation: 'CopyObject',
      needs: [
        ['s3:PutObject', 'arn:aws:s3:::b/home/u/copy', {}],
        ['s3:GetObject', 'arn:aws:s3:::b/home/v/secret', {}],
      ],
    },
  );
  // A copy source on anything but a plain PUT (UploadPartCopy, ...) is unmapped.
  assert.equal(
    map({
      method: 'PUT',
      key: 'k',
      query: { uploadId: 'u', partNumber: '1' },
      copySource: { bucket: 'b', key: 'x' },
    }),
    undefined,
  );
});

test('DeleteObjects needs s3:DeleteObject on every key its body names', () => {
  assert.deepEqual(
    only({ method: 'POST', query: { delete: '' }, deleteKeys: ['home/u/a', 'home/v/b'] }).needs,
    [
      ['s3:DeleteObject', 'arn:aws:s3:::b/home/u/a', {}],
      ['s3:DeleteObject', 'arn:aws:s3:::b/home/v/b', {}],
    ],
  );
  assert.equal(map({ method: 'POST', query: { delete: '' }, deleteKeys: [] }), undefined);
});

test('subresources and options this map does not know stay unmapped (fail closed)', () => {
  const requests: (Partial<S3Request> & { method: string })[] = [
    { method: 'GET', key: 'k', query: { acl: '' } },
    { method: 'GET', key: 'k', query: { tagging: '' } },
    { method: 'GET', key: 'k', query: { versionId: 'v' } },
    { method: 'PUT', key: 'k', query: { acl: '' } },
    { method: 'PUT', key: 'k', query: { tagging: '' } },
    { method: 'POST', key: 'k' },
    { method: 'PATCH', key: 'k' },
    { method: 'GET', query: { uploads: '' } },
    { method: 'GET', query: { policy: '' } },
    { method: 'PUT' },
    { method: 'DELETE' },
    { method: 'PUT', query: { cors: '' } },
    { method: 'GET', bucket: '', query: { acl: '' } },
  ];
  for (const r of requests) {
    assert.equal(map(r), undefined, JSON.stringify(r));
  }
});
