import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  accessRequestSchema,
  approvedRequesters,
  databaseDsnName,
  databaseSchema,
  datasetGrants,
  datasetSchema,
  mayDecide,
} from '../../crds/index.ts';

const db = (spec: Record<string, unknown>, name = 'datasets') => ({
  apiVersion: 'berth/v1alpha1',
  kind: 'Database',
  metadata: { name },
  spec: {
    host: 'db.internal',
    dbname: 'datasets',
    adminCredentials: { fromEnv: 'DS_ADMIN' },
    ...spec,
  },
});

test('a Database takes a credentials reference, never a password, and defaults its logins', () => {
  const parsed = databaseSchema.parse(db({}));
  assert.equal(parsed.spec.port, 5432);
  assert.equal(parsed.spec.sslmode, 'verify-full');
  assert.deepEqual(parsed.spec.logins, {
    connectionLimit: 10,
    statementTimeout: '60m',
    idleInTransactionTimeout: '60m',
  });
  assert.equal(databaseDsnName(databaseSchema.parse(db({}, 'uk-trade'))), 'uk_trade');
  const both = databaseSchema.safeParse(
    db({
      adminCredentials: {
        fromEnv: 'X',
        secretsManagerArn: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:a',
      },
    }),
  );
  assert.equal(both.success, false);
  assert.match(JSON.stringify(both.error?.issues), /exactly one of fromEnv and secretsManagerArn/);
  const password = databaseSchema.safeParse(db({ adminCredentials: { password: 'hunter2' } }));
  assert.equal(password.success, false);
  assert.equal(databaseSchema.safeParse(db({}, 'has.dot')).success, false);
});

const ds = (access: Record<string, unknown>, approvers = {}) =>
  datasetSchema.parse({
    apiVersion: 'berth/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'trade' },
    spec: {
      title: 'Trade',
      tables: [{ database: 'datasets', schema: 'trade', table: 'exports' }],
      access,
      approvers,
    },
  });

test('who a Dataset grants: everyone, named users and groups, approved requesters, and apps only by name', () => {
  const everyone = ds({ type: 'everyone' });
  assert.equal(datasetGrants(everyone, { kind: 'user', name: 'ann', groups: [] }, new Set()), true);
  assert.equal(datasetGrants(everyone, { kind: 'app', name: 'dash' }, new Set()), false);
  const named = ds({ users: ['bob'], groups: ['stats'], apps: ['dash'] });
  assert.equal(datasetGrants(named, { kind: 'user', name: 'bob', groups: [] }, new Set()), true);
  assert.equal(
    datasetGrants(named, { kind: 'user', name: 'cy', groups: ['stats'] }, new Set()),
    true,
  );
  assert.equal(datasetGrants(named, { kind: 'user', name: 'dee', groups: [] }, new Set()), false);
  assert.equal(
    datasetGrants(named, { kind: 'user', name: 'dee', groups: [] }, new Set(['dee'])),
    true,
  );
  assert.equal(datasetGrants(named, { kind: 'app', name: 'dash' }, new Set()), true);
  assert.equal(
    datasetSchema.safeParse({
      ...everyone,
      spec: { ...everyone.spec, access: { type: 'everyone', users: ['x'] } },
    }).success,
    false,
  );
});

test('approved requesters come from Approved requests for that dataset only', () => {
  const req = (ns: string, dataset: string, phase?: string) =>
    accessRequestSchema.parse({
      apiVersion: 'berth/v1alpha1',
      kind: 'AccessRequest',
      metadata: { name: dataset, namespace: ns },
      spec: { dataset, reason: 'work' },
      ...(phase ? { status: { phase } } : {}),
    });
  const got = approvedRequesters('trade', [
    req('ann', 'trade', 'Approved'),
    req('bob', 'trade', 'Denied'),
    req('cy', 'trade'),
    req('dee', 'other', 'Approved'),
  ]);
  assert.deepEqual([...got], ['ann']);
  assert.equal(
    accessRequestSchema.safeParse({
      ...req('ann', 'trade'),
      spec: { dataset: 'trade', reason: '  ' },
    }).success,
    false,
  );
});

test('approvers decide requests, never their own; admins always may', () => {
  const d = ds({}, { users: ['boss'], groups: ['stewards'] });
  assert.equal(mayDecide(d, { name: 'boss', groups: [], admin: false }, 'ann'), true);
  assert.equal(mayDecide(d, { name: 'sue', groups: ['stewards'], admin: false }, 'ann'), true);
  assert.equal(mayDecide(d, { name: 'boss', groups: [], admin: false }, 'boss'), false);
  assert.equal(mayDecide(d, { name: 'ann', groups: [], admin: false }, 'bob'), false);
  assert.equal(mayDecide(d, { name: 'root', groups: [], admin: true }, 'root'), true);
});
