// The file role's policy, statement by statement: what each allows, on what, under
// which condition; nothing on "*"; another user's prefix matches no Allow.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  accountOf,
  fileRoleName,
  filesPolicy,
  type PolicyStatement,
  trustPolicy,
} from '../../../controllers/files/index.ts';
import { homePrefix } from '../../../crds/index.ts';

const ME = '3f2a1c0e-7b6d-4e5f-9a8b-1c2d3e4f5a6b';
const OTHER = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';
const BUCKET = 'berth-files';
const doc = filesPolicy({ bucket: BUCKET, prefix: homePrefix(ME) });

function statement(sid: string): PolicyStatement {
  const s = doc.Statement.find((x) => x.Sid === sid);
  assert.ok(s, `statement ${sid}`);
  return s;
}

test('exactly two statements, both Allow, version 2012-10-17', () => {
  assert.equal(doc.Version, '2012-10-17');
  assert.deepEqual(
    doc.Statement.map((s) => [s.Sid, s.Effect]),
    [
      ['ListOwnHome', 'Allow'],
      ['ObjectsInOwnHome', 'Allow'],
    ],
  );
});

test('ListOwnHome: s3:ListBucket on the bucket, only for prefixes inside the home', () => {
  const s = statement('ListOwnHome');
  assert.deepEqual(s.Action, ['s3:ListBucket']);
  assert.equal(s.Resource, 'arn:aws:s3:::berth-files');
  assert.deepEqual(s.Condition, {
    StringLike: { 's3:prefix': [`home/${ME}/`, `home/${ME}/*`] },
  });
});

test('ObjectsInOwnHome: get, put, delete and multipart on objects under the home, no condition', () => {
  const s = statement('ObjectsInOwnHome');
  assert.deepEqual(s.Action, [
    's3:GetObject',
    's3:PutObject',
    's3:DeleteObject',
    's3:AbortMultipartUpload',
    's3:ListMultipartUploadParts',
  ]);
  assert.equal(s.Resource, `arn:aws:s3:::berth-files/home/${ME}/*`);
  assert.equal(s.Condition, undefined);
});

test('no wildcard resource, no wildcard action, no Deny needed, no other service', () => {
  for (const s of doc.Statement) {
    assert.notEqual(s.Resource, '*');
    assert.ok(!s.Resource.startsWith('arn:aws:s3:::*'));
    for (const a of s.Action) {
      assert.ok(!a.includes('*'), a);
      assert.ok(a.startsWith('s3:'), a);
    }
  }
});

// A small evaluator of exactly the features the template uses (StringLike with
// "*", resource ARNs with a trailing "*"), to ask "does any Allow match?".
function like(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(value);
}
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
function allows(action: string, resource: string, context: Record<string, string> = {}): boolean {
  return doc.Statement.some(
    (s) =>
      s.Effect === 'Allow' &&
      s.Action.includes(action) &&
      like(s.Resource, resource) &&
      Object.entries(s.Condition?.StringLike ?? {}).every(
        ([key, patterns]) =>
          context[key] !== undefined && patterns.some((p) => like(p, context[key]!)),
      ),
  );
}

test("the user's own home: allowed", () => {
  assert.ok(allows('s3:GetObject', `arn:aws:s3:::berth-files/home/${ME}/a/b.csv`));
  assert.ok(allows('s3:PutObject', `arn:aws:s3:::berth-files/home/${ME}/x`));
  assert.ok(allows('s3:ListBucket', 'arn:aws:s3:::berth-files', { 's3:prefix': `home/${ME}/` }));
  assert.ok(
    allows('s3:ListBucket', 'arn:aws:s3:::berth-files', { 's3:prefix': `home/${ME}/reports/` }),
  );
});

test("another user's prefix, the bucket root, a look-alike prefix and another bucket match no Allow", () => {
  for (const action of [
    's3:GetObject',
    's3:PutObject',
    's3:DeleteObject',
    's3:AbortMultipartUpload',
  ]) {
    assert.ok(!allows(action, `arn:aws:s3:::berth-files/home/${OTHER}/a`), action);
    assert.ok(!allows(action, `arn:aws:s3:::berth-files/home/${ME}x/a`), action);
    assert.ok(!allows(action, `arn:aws:s3:::berth-files/home/${ME}`), action);
    assert.ok(!allows(action, 'arn:aws:s3:::berth-files/top-level'), action);
    assert.ok(!allows(action, `arn:aws:s3:::other-bucket/home/${ME}/a`), action);
  }
  const list = (prefix?: string) =>
    allows(
      's3:ListBucket',
      'arn:aws:s3:::berth-files',
      prefix === undefined ? {} : { 's3:prefix': prefix },
    );
  assert.ok(!list(`home/${OTHER}/`));
  assert.ok(!list('home/'));
  assert.ok(!list(''));
  assert.ok(!list(), 'a listing without a prefix');
  assert.ok(!list(`home/${ME}`), 'the prefix without its "/" also matches other uids starting so');
  assert.ok(!allows('s3:ListBucket', 'arn:aws:s3:::other-bucket', { 's3:prefix': `home/${ME}/` }));
  assert.ok(!allows('s3:ListAllMyBuckets', '*'));
  assert.ok(!allows('s3:PutBucketPolicy', 'arn:aws:s3:::berth-files'));
});

test('a prefix or bucket that could widen the policy is refused', () => {
  assert.throws(() => filesPolicy({ bucket: BUCKET, prefix: 'home/*/' }), /not a home prefix/);
  assert.throws(() => filesPolicy({ bucket: BUCKET, prefix: 'home/' }), /not a home prefix/);
  assert.throws(
    () => filesPolicy({ bucket: BUCKET, prefix: `home/\${aws:username}/` }),
    /not a home prefix/,
  );
  assert.throws(() => filesPolicy({ bucket: '*', prefix: homePrefix(ME) }), /not an S3 bucket/);
});

test('trust policy: ECS tasks only, with aws:SourceAccount when the account is known', () => {
  const open = trustPolicy() as { Statement: Record<string, unknown>[] };
  assert.deepEqual(open.Statement, [
    {
      Effect: 'Allow',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Action: 'sts:AssumeRole',
    },
  ]);
  const scoped = trustPolicy('123456789012') as { Statement: Record<string, unknown>[] };
  assert.deepEqual(scoped.Statement[0]!.Condition, {
    StringEquals: { 'aws:SourceAccount': '123456789012' },
  });
  assert.equal(accountOf('arn:aws:iam::123456789012:policy/boundary'), '123456789012');
  assert.equal(accountOf(undefined), undefined);
});

test("role name: prefix and the uid without dashes, within IAM's 64 characters", () => {
  const name = fileRoleName('berth-files-', ME);
  assert.equal(name, `berth-files-${ME.replaceAll('-', '')}`);
  assert.ok(name.length <= 64);
  assert.ok(fileRoleName('x'.repeat(32), ME).length <= 64);
});
