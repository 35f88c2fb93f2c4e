// IAM's evaluation logic, statement by statement (ecs-local/policy-evaluation.ts),
// and the policy documents IAM accepts (ecs-local/iam-policy.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PolicyDocument, parsePolicyDocument } from '../../ecs-local/iam-policy.ts';
import {
  type AuthorizationRequest,
  evaluateCondition,
  evaluatePolicies,
  evaluateWithBoundary,
  matchAction,
  matchResource,
} from '../../ecs-local/policy-evaluation.ts';

const req = (
  action: string,
  resource: string,
  context: Record<string, string> = {},
): AuthorizationRequest => ({
  action,
  resource,
  context,
});

const doc = (...Statement: PolicyDocument['Statement'][]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: Statement.flat(),
});

test('nothing allows by default (implicit deny)', () => {
  assert.equal(evaluatePolicies([], req('s3:GetObject', 'arn:aws:s3:::b/k')), 'ImplicitDeny');
});

test('an Allow applies when action and resource match', () => {
  const p = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/home/u1/*' });
  assert.equal(evaluatePolicies([p], req('s3:GetObject', 'arn:aws:s3:::b/home/u1/x')), 'Allow');
  assert.equal(
    evaluatePolicies([p], req('s3:PutObject', 'arn:aws:s3:::b/home/u1/x')),
    'ImplicitDeny',
  );
  assert.equal(
    evaluatePolicies([p], req('s3:GetObject', 'arn:aws:s3:::b/home/u2/x')),
    'ImplicitDeny',
  );
});

test('an explicit Deny wins over any Allow, in any order and any policy', () => {
  const allow = doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
  const deny = doc({ Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*' });
  assert.equal(
    evaluatePolicies([allow, deny], req('s3:DeleteObject', 'arn:aws:s3:::b/k')),
    'ExplicitDeny',
  );
  assert.equal(
    evaluatePolicies([deny, allow], req('s3:DeleteObject', 'arn:aws:s3:::b/k')),
    'ExplicitDeny',
  );
  assert.equal(evaluatePolicies([deny, allow], req('s3:GetObject', 'arn:aws:s3:::b/k')), 'Allow');
});

test('actions match case-insensitively with * and ?; resources case-sensitively', () => {
  assert.ok(matchAction('s3:Get*', 's3:getobject'));
  assert.ok(matchAction('S3:?etObject', 's3:GetObject'));
  assert.ok(matchAction('*', 'iam:CreateRole'));
  assert.ok(!matchAction('s3:Get*', 's3:PutObject'));
  assert.ok(matchResource('arn:aws:s3:::b/home/u1/*', 'arn:aws:s3:::b/home/u1/a/b:c'));
  assert.ok(!matchResource('arn:aws:s3:::b/home/u1/*', 'arn:aws:s3:::b/HOME/u1/a'));
  assert.ok(matchResource('arn:aws:s3:::b/home/u?/x', 'arn:aws:s3:::b/home/u2/x'));
  assert.ok(!matchResource('arn:aws:s3:::b/home/u?/x', 'arn:aws:s3:::b/home/u22/x'));
  // A wildcard stays within its ARN segment before the resource part.
  assert.ok(
    !matchResource('arn:aws:*:eu-west-2:000000000000:x', 'arn:aws:s3:us:eu-west-2:000000000000:x'),
  );
  assert.ok(matchResource('arn:aws:s3:*:*:b', 'arn:aws:s3:::b'));
  // Regular-expression characters are literal.
  assert.ok(!matchResource('arn:aws:s3:::b/a.c', 'arn:aws:s3:::b/abc'));
});

test('NotAction and NotResource apply to everything they do not name', () => {
  const p = doc({ Effect: 'Deny', NotAction: 's3:GetObject', Resource: '*' });
  assert.equal(evaluatePolicies([p], req('s3:PutObject', 'arn:aws:s3:::b/k')), 'ExplicitDeny');
  assert.equal(evaluatePolicies([p], req('s3:GetObject', 'arn:aws:s3:::b/k')), 'ImplicitDeny');
  const q = doc({
    Effect: 'Allow',
    Action: 's3:GetObject',
    NotResource: 'arn:aws:s3:::b/secret/*',
  });
  assert.equal(evaluatePolicies([q], req('s3:GetObject', 'arn:aws:s3:::b/open/k')), 'Allow');
  assert.equal(
    evaluatePolicies([q], req('s3:GetObject', 'arn:aws:s3:::b/secret/k')),
    'ImplicitDeny',
  );
});

test('StringLike on s3:prefix, as berth lists a home folder', () => {
  const p = doc({
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: 'arn:aws:s3:::b',
    Condition: { StringLike: { 's3:prefix': ['home/u1/', 'home/u1/*'] } },
  });
  const list = (prefix?: string) =>
    evaluatePolicies(
      [p],
      req('s3:ListBucket', 'arn:aws:s3:::b', prefix === undefined ? {} : { 's3:prefix': prefix }),
    );
  assert.equal(list('home/u1/'), 'Allow');
  assert.equal(list('home/u1/sub/'), 'Allow');
  assert.equal(list('home/u1'), 'ImplicitDeny');
  assert.equal(list('home/u2/'), 'ImplicitDeny');
  assert.equal(list(''), 'ImplicitDeny');
  assert.equal(list(undefined), 'ImplicitDeny');
});

test('condition operators: Equals, NotEquals, NotLike and Null, with missing keys as IAM treats them', () => {
  assert.equal(evaluateCondition('StringEquals', 'a', ['a', 'b']), true);
  assert.equal(evaluateCondition('StringEquals', 'A', ['a']), false);
  assert.equal(evaluateCondition('StringEquals', undefined, ['a']), false);
  assert.equal(evaluateCondition('StringNotEquals', 'c', ['a', 'b']), true);
  assert.equal(evaluateCondition('StringNotEquals', 'a', ['a']), false);
  assert.equal(evaluateCondition('StringNotEquals', undefined, ['a']), true);
  assert.equal(evaluateCondition('StringLike', 'x/y', ['x/*']), true);
  assert.equal(evaluateCondition('StringNotLike', 'x/y', ['x/*']), false);
  assert.equal(evaluateCondition('StringNotLike', undefined, ['x/*']), true);
  assert.equal(evaluateCondition('Null', undefined, ['true']), true);
  assert.equal(evaluateCondition('Null', 'v', ['true']), false);
  assert.equal(evaluateCondition('Null', 'v', ['false']), true);
  // Condition keys are case-insensitive.
  const p = doc({
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: '*',
    Condition: { StringEquals: { 'S3:Prefix': 'a/' } },
  });
  assert.equal(
    evaluatePolicies([p], req('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'a/' })),
    'Allow',
  );
});

test('every condition of a statement must hold (AND across keys and operators)', () => {
  const p = doc({
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: '*',
    Condition: { StringLike: { 's3:prefix': 'home/u1/*' }, StringEquals: { 's3:delimiter': '/' } },
  });
  assert.equal(
    evaluatePolicies(
      [p],
      req('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'home/u1/a', 's3:delimiter': '/' }),
    ),
    'Allow',
  );
  assert.equal(
    evaluatePolicies([p], req('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'home/u1/a' })),
    'ImplicitDeny',
  );
});

test('unsupported operators and set qualifiers fail closed: never grant, always deny', () => {
  for (const op of [
    'ForAnyValue:StringLike',
    'ForAllValues:StringEquals',
    'NumericLessThan',
    'StringEqualsIfExists',
    'Bogus',
  ]) {
    const allow = doc({
      Effect: 'Allow',
      Action: 's3:*',
      Resource: '*',
      Condition: { [op]: { 's3:prefix': 'home/*' } },
    });
    assert.equal(
      evaluatePolicies([allow], req('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'home/x' })),
      'ImplicitDeny',
      op,
    );
    const deny = doc(
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      {
        Effect: 'Deny',
        Action: 's3:*',
        Resource: '*',
        Condition: { [op]: { 's3:prefix': 'nothing-matches' } },
      },
    );
    assert.equal(
      evaluatePolicies([deny], req('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'home/x' })),
      'ExplicitDeny',
      op,
    );
  }
});

test('a permissions boundary limits what the identity policies allow', () => {
  const identity = doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
  const boundary = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
  assert.equal(
    evaluateWithBoundary([identity], boundary, req('s3:GetObject', 'arn:aws:s3:::b/k')),
    'Allow',
  );
  assert.equal(
    evaluateWithBoundary([identity], boundary, req('s3:PutObject', 'arn:aws:s3:::b/k')),
    'ImplicitDeny',
  );
  assert.equal(
    evaluateWithBoundary([], boundary, req('s3:GetObject', 'arn:aws:s3:::b/k')),
    'ImplicitDeny',
  );
  assert.equal(
    evaluateWithBoundary([identity], undefined, req('s3:PutObject', 'arn:aws:s3:::b/k')),
    'Allow',
  );
});

test('malformed policy documents are refused with a reason', () => {
  const bad = (text: string, re: RegExp) => {
    const r = parsePolicyDocument(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.message, re);
  };
  bad('{', /Syntax errors/);
  bad('{"Version":"2012-10-17"}', /Statement/);
  bad('{"Version":"2020-01-01","Statement":[]}', /Version/);
  bad('{"Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}}', /Effect/);
  bad('{"Statement":{"Effect":"Allow","Resource":"*"}}', /Action and NotAction/);
  bad(
    '{"Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"s3:x","Resource":"*"}}',
    /Action and NotAction/,
  );
  bad('{"Statement":{"Effect":"Allow","Action":"s3:*"}}', /Resource and NotResource/);
  bad('{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}', /action/);
  bad(
    '{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Principal":"*"}}',
    /principal/,
  );
  bad(
    '{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringLike":"x"}}}',
    /Condition/,
  );
  bad(
    '{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Extra":1}}',
    /Extra|Unrecognized/,
  );
  const ok = parsePolicyDocument(
    '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:Get*"],"Resource":"*"}}',
  );
  assert.equal(ok.ok, true);
});
