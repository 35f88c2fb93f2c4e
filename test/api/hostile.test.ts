// A corpus of malformed and hostile requests against every endpoint. Each must
// get a 4xx Kubernetes Status with a useful message, never a 5xx; afterwards the
// store holds exactly what the test created legitimately, and the
// resourceVersion counter matches the change log.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import { type RawResponse, rawRequest } from '../support/raw-http.ts';
import { BASE, type Harness, type Json, send, startHarness } from './support.ts';

let h: Harness;
const LIMIT = 1024 * 1024; // the default

before(async () => {
  h = await startHarness({ bodyLimitBytes: LIMIT });
  const td = await send(h, 'POST', `${BASE}/tooldefinitions`, {
    token: h.admin,
    body: toolDefinition('base'),
  });
  assert.equal(td.status, 201, td.text);
  const ti = await send(h, 'POST', `${BASE}/namespaces/alice/toolinstances`, {
    token: h.admin,
    body: toolInstance('alice', 'base'),
  });
  assert.equal(ti.status, 201, ti.text);
});
after(async () => {
  await h.close();
});

interface Case {
  name: string;
  method: string;
  path: string;
  token?: 'admin' | 'alice' | 'none' | string;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** Exact status expected, when it matters. */
  status?: number;
  /** A pattern the message must match. */
  message?: RegExp;
}

function tokenOf(c: Case): string | undefined {
  if (c.token === 'none') return undefined;
  if (c.token === 'alice') return h.alice;
  if (c.token === undefined || c.token === 'admin') return h.admin;
  return c.token;
}

async function run(c: Case): Promise<RawResponse> {
  const headers: Record<string, string> = { ...c.headers };
  const token = tokenOf(c);
  if (token && !('Authorization' in headers)) headers.Authorization = `Bearer ${token}`;
  if (c.contentType) headers['Content-Type'] = c.contentType;
  return await rawRequest(h.url, c.method, c.path, headers, c.body);
}

function assertStatusFailure(c: Case, res: RawResponse): Json {
  const label = `${c.name}: ${c.method} ${c.path.slice(0, 120)} -> ${res.status} ${res.body.slice(0, 300)}`;
  assert.ok(res.status >= 400 && res.status < 500, label);
  let status: Json;
  try {
    status = JSON.parse(res.body);
  } catch {
    assert.fail(`not JSON: ${label}`);
  }
  assert.equal(status.kind, 'Status', label);
  assert.equal(status.apiVersion, 'v1', label);
  assert.equal(status.status, 'Failure', label);
  assert.equal(status.code, res.status, label);
  assert.equal(typeof status.message, 'string', label);
  assert.ok(status.message.length >= 10, `message too short: ${label}`);
  if (c.status !== undefined) assert.equal(res.status, c.status, label);
  if (c.message) assert.match(status.message, c.message, label);
  return status;
}

const TD = `${BASE}/tooldefinitions`;
const TI = `${BASE}/namespaces/alice/toolinstances`;
const json = 'application/json';
const merge = 'application/merge-patch+json';
const applyYaml = 'application/apply-patch+yaml';

const tdJson = (patch: (o: Json) => void = () => {}) => {
  const o: Json = toolDefinition('hostile');
  patch(o);
  return JSON.stringify(o);
};

const deepArrays = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObjects = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
const billionLaughs = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
  'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
].join('\n');

const odd = {
  rtl: 'evil\u202egpj',
  nul: 'a\u0000b',
  emoji: 'tool-\u{1F680}',
  fullWidth: '\uFF4A\uFF55\uFF50\uFF59\uFF54\uFF45\uFF52',
  upper: 'JupyterLab',
  long: 'a'.repeat(254),
  zeroWidth: 'jupy\u200bter',
  combining: 'jupyte\u0301r',
};

const CASES: Case[] = [
  // Broken and odd JSON.
  {
    name: 'truncated JSON',
    method: 'POST',
    path: TD,
    body: '{"apiVersion": ',
    contentType: json,
    status: 400,
    message: /JSON.*position/,
  },
  {
    name: 'trailing garbage',
    method: 'POST',
    path: TD,
    body: '{}}',
    contentType: json,
    status: 400,
    message: /JSON/,
  },
  {
    name: 'single quotes',
    method: 'POST',
    path: TD,
    body: "{'a': 1}",
    contentType: json,
    status: 400,
  },
  { name: 'empty body', method: 'POST', path: TD, body: '', contentType: json, status: 400 },
  {
    name: 'whitespace body',
    method: 'POST',
    path: TD,
    body: '   \n ',
    contentType: json,
    status: 400,
  },
  {
    name: 'array body',
    method: 'POST',
    path: TD,
    body: '[]',
    contentType: json,
    status: 400,
    message: /object/,
  },
  { name: 'string body', method: 'POST', path: TD, body: '"x"', contentType: json, status: 400 },
  { name: 'null body', method: 'POST', path: TD, body: 'null', contentType: json, status: 400 },
  { name: 'number body', method: 'POST', path: TD, body: '42', contentType: json, status: 400 },
  {
    name: 'infinite number',
    method: 'POST',
    path: TD,
    body: tdJson().replace('8888', '1e400'),
    contentType: json,
    status: 400,
  },
  {
    name: 'invalid UTF-8',
    method: 'POST',
    path: TD,
    body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    contentType: json,
    status: 400,
    message: /UTF-8/,
  },
  {
    name: 'NUL in a string',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.spec.description = 'a\u0000b';
    }),
    contentType: json,
    status: 400,
    message: /NUL/,
  },
  {
    name: 'NUL in a key',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.metadata.labels = { 'a\u0000': 'b' };
    }),
    contentType: json,
    status: 400,
  },
  {
    name: 'lone surrogate',
    method: 'POST',
    path: TD,
    body: tdJson().replace('"hostile"', '"hostile\\ud800"'),
    contentType: json,
    status: 400,
    message: /surrogate/,
  },
  {
    name: '__proto__ key',
    method: 'POST',
    path: TD,
    body: tdJson().replace('"spec":{', '"spec":{"__proto__":{"admin":true},'),
    contentType: json,
    status: 400,
    message: /__proto__/,
  },
  {
    name: 'deep arrays (100k)',
    method: 'POST',
    path: TD,
    body: tdJson().replace('"spec":{', `"spec":{"x":${deepArrays(100_000)},`),
    contentType: json,
    status: 400,
    message: /nests deeper/,
  },
  {
    name: 'deep objects (100k)',
    method: 'POST',
    path: TD,
    body: deepObjects(100_000),
    contentType: json,
    status: 400,
    message: /nests deeper/,
  },
  {
    name: 'huge body',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.spec.description = 'x'.repeat(LIMIT + 10);
    }),
    contentType: json,
    status: 413,
  },
  {
    name: 'huge body, no token',
    method: 'POST',
    path: TD,
    token: 'none',
    body: 'x'.repeat(LIMIT + 10),
    contentType: json,
  },
  {
    name: 'huge merge patch',
    method: 'PATCH',
    path: `${TD}/base`,
    body: `{"spec":{"description":"${'y'.repeat(LIMIT)}"}}`,
    contentType: merge,
    status: 413,
  },
  // Wrong types and unknown fields: 422 with causes.
  {
    name: 'port as a string',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.spec.port = 'eighty';
    }),
    contentType: json,
    status: 422,
    message: /spec\.port/,
  },
  {
    name: 'port as a float',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.spec.port = 80.5;
    }),
    contentType: json,
    status: 422,
  },
  {
    name: 'sizes as an array',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.spec.sizes = [1, 2];
    }),
    contentType: json,
    status: 422,
  },
  {
    name: 'metadata as a string',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.metadata = 'x';
    }),
    contentType: json,
    status: 422,
  },
  {
    name: 'labels with bad keys',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.metadata.labels = { 'bad key!': 'v', ok: 'x'.repeat(64) };
    }),
    contentType: json,
    status: 422,
  },
  {
    name: 'unknown top-level field',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.bogus = 1;
    }),
    contentType: json,
    status: 422,
    message: /bogus/,
  },
  {
    name: 'unknown metadata field',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.metadata.bogus = 1;
    }),
    contentType: json,
    status: 422,
    message: /metadata\.bogus/,
  },
  {
    name: 'unknown spec field',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.spec.bogus = 1;
    }),
    contentType: json,
    status: 422,
    message: /spec\.bogus/,
  },
  {
    name: 'wrong kind for URL',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.kind = 'ToolInstance';
    }),
    contentType: json,
    status: 400,
    message: /kind/,
  },
  {
    name: 'wrong apiVersion',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.apiVersion = 'berth/v2';
    }),
    contentType: json,
    status: 400,
    message: /apiVersion/,
  },
  {
    name: 'namespace on a cluster-scoped kind',
    method: 'POST',
    path: TD,
    body: tdJson((o) => {
      o.metadata.namespace = 'alice';
    }),
    contentType: json,
    status: 400,
    message: /metadata\.namespace/,
  },
  {
    name: 'body namespace differs from URL',
    method: 'POST',
    path: TI,
    body: JSON.stringify(toolInstance('bob', 'x', 'base')),
    contentType: json,
    status: 400,
    message: /metadata\.namespace/,
  },
  {
    name: 'PUT name differs from URL',
    method: 'PUT',
    path: `${TD}/base`,
    body: tdJson(),
    contentType: json,
    status: 400,
    message: /metadata\.name/,
  },
  {
    name: 'merge patch renames',
    method: 'PATCH',
    path: `${TD}/base`,
    body: '{"metadata":{"name":"other"}}',
    contentType: merge,
    status: 400,
    message: /metadata\.name/,
  },
  {
    name: 'merge patch drops metadata',
    method: 'PATCH',
    path: `${TD}/base`,
    body: '{"metadata":null}',
    contentType: merge,
    status: 400,
  },
  {
    name: 'merge patch wrong type',
    method: 'PATCH',
    path: `${TD}/base`,
    body: '{"spec":{"port":"x"}}',
    contentType: merge,
    status: 422,
  },
  {
    name: 'merge patch is an array',
    method: 'PATCH',
    path: `${TD}/base`,
    body: '[{"op":"add"}]',
    contentType: merge,
    status: 400,
  },
  {
    name: 'ToolInstance with a bad state',
    method: 'POST',
    path: TI,
    body: JSON.stringify({
      ...toolInstance('alice', 'x', 'base'),
      spec: { toolRef: 'base', state: 'Exploded' },
    }),
    contentType: json,
    status: 422,
  },
  {
    name: 'Event with a bad reason',
    method: 'POST',
    path: `${BASE}/namespaces/alice/events`,
    body: JSON.stringify({
      apiVersion: 'berth/v1alpha1',
      kind: 'Event',
      metadata: { name: 'e1', namespace: 'alice' },
      involvedObject: { apiVersion: 'berth/v1alpha1', kind: 'ToolInstance', name: 'base' },
      reason: 'not camel',
    }),
    contentType: json,
    status: 422,
  },
  // YAML.
  {
    name: 'broken YAML',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: 'a: [1, 2',
    contentType: applyYaml,
    status: 400,
    message: /YAML/,
  },
  {
    name: 'YAML tabs',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: 'a:\n\t- b',
    contentType: applyYaml,
    status: 400,
  },
  {
    name: 'YAML alias bomb',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: billionLaughs,
    contentType: applyYaml,
    status: 400,
    message: /alias|YAML/i,
  },
  {
    name: 'YAML duplicate keys',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: 'kind: ToolDefinition\nkind: ToolDefinition\n',
    contentType: applyYaml,
    status: 400,
  },
  {
    name: 'YAML two documents',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: 'a: 1\n---\nb: 2\n',
    contentType: applyYaml,
    status: 400,
    message: /one YAML document/,
  },
  {
    name: 'YAML custom tag',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: 'a: !!js/function "x"\n',
    contentType: applyYaml,
  },
  {
    name: 'YAML binary tag',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: 'a: !!binary aGVsbG8=\n',
    contentType: applyYaml,
  },
  {
    name: 'YAML deep flow sequences',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: deepArrays(100_000),
    contentType: applyYaml,
    status: 400,
  },
  {
    name: 'YAML deep block mappings',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
    contentType: applyYaml,
    status: 400,
  },
  {
    name: 'YAML scalar document',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=t`,
    body: 'just a string',
    contentType: applyYaml,
    status: 400,
  },
  {
    name: 'YAML create with wrong types',
    method: 'POST',
    path: TD,
    body: 'apiVersion: berth/v1alpha1\nkind: ToolDefinition\nmetadata: {name: y}\nspec: {port: [1]}\n',
    contentType: 'application/yaml',
    status: 422,
  },
  {
    name: 'apply without fieldManager',
    method: 'PATCH',
    path: `${TD}/base`,
    body: tdJson(),
    contentType: applyYaml,
    status: 400,
    message: /fieldManager/,
  },
  {
    name: 'apply with a bad fieldManager',
    method: 'PATCH',
    path: `${TD}/base?fieldManager=${encodeURIComponent('a b')}`,
    body: tdJson(),
    contentType: applyYaml,
    status: 400,
  },
  {
    name: 'apply on status',
    method: 'PATCH',
    path: `${TD}/base/status?fieldManager=t`,
    body: '{}',
    contentType: applyYaml,
    status: 415,
  },
  // Odd Unicode in names, in bodies and in URLs.
  ...Object.entries(odd).flatMap(([k, name]): Case[] => [
    {
      name: `body name: ${k}`,
      method: 'POST',
      path: TD,
      body: tdJson((o) => {
        o.metadata.name = name;
      }),
      contentType: json,
    },
    {
      name: `URL name: ${k}`,
      method: 'GET',
      path: `${TD}/${encodeURIComponent(name)}`,
      status: 400,
      message: /name/,
    },
    {
      name: `URL namespace: ${k}`,
      method: 'GET',
      path: `${BASE}/namespaces/${encodeURIComponent(name)}/toolinstances`,
      status: 400,
      message: /namespace/,
    },
    // Upper case is fine in a label value.
    ...(k === 'upper'
      ? []
      : [
          {
            name: `label value: ${k}`,
            method: 'POST',
            path: TD,
            body: tdJson((o) => {
              o.metadata.labels = { a: name };
            }),
            contentType: json,
          },
        ]),
  ]),
  // Label selectors, continue tokens, resourceVersions, query parameters.
  ...[
    'a in (',
    '!!',
    'a==b==c',
    '=x',
    'a in (b',
    'a notin',
    'a,,b',
    `a=${'x'.repeat(100)}`,
    'a b',
    'a=\u202e',
    '(a)',
  ].map(
    (sel): Case => ({
      name: `label selector ${JSON.stringify(sel)}`,
      method: 'GET',
      path: `${TD}?labelSelector=${encodeURIComponent(sel)}`,
      status: 400,
    }),
  ),
  {
    name: 'label selector too long',
    method: 'GET',
    path: `${TD}?labelSelector=${'a'.repeat(5000)}`,
    status: 400,
  },
  {
    name: 'field selector unsupported',
    method: 'GET',
    path: `${TD}?fieldSelector=spec.port%3D1`,
    status: 400,
  },
  ...[
    'garbage',
    'eyJ2IjoxfQ',
    '!!!',
    'eyJ2IjoxLCJydiI6LTEsIm5zIjoiIiwibmFtZSI6IiJ9',
    Buffer.from('{"v":1,"rv":1,"ns":"","name":"a","x":{"__proto__":1}}').toString('base64url'),
    'a'.repeat(5000),
  ].map(
    (tok): Case => ({
      name: `continue ${tok.slice(0, 20)}`,
      method: 'GET',
      path: `${TD}?limit=1&continue=${encodeURIComponent(tok)}`,
      status: 400,
    }),
  ),
  ...['abc', '-1', '1e5', '99999999999999999999', '1.5', ' 1', '0x10'].map(
    (rv): Case => ({
      name: `watch resourceVersion ${rv}`,
      method: 'GET',
      path: `${TD}?watch=true&resourceVersion=${encodeURIComponent(rv)}`,
      status: 400,
      message: /resourceVersion/,
    }),
  ),
  { name: 'get resourceVersion', method: 'GET', path: `${TD}/base?resourceVersion=x`, status: 400 },
  { name: 'negative limit', method: 'GET', path: `${TD}?limit=-1`, status: 400, message: /limit/ },
  { name: 'limit not a number', method: 'GET', path: `${TD}?limit=ten`, status: 400 },
  {
    name: 'repeated limit',
    method: 'GET',
    path: `${TD}?limit=1&limit=2`,
    status: 400,
    message: /once/,
  },
  {
    name: 'unknown query parameter',
    method: 'GET',
    path: `${TD}?bogus=1`,
    status: 400,
    message: /bogus/,
  },
  { name: 'watch=maybe', method: 'GET', path: `${TD}?watch=maybe`, status: 400 },
  {
    name: 'timeoutSeconds=abc',
    method: 'GET',
    path: `${TD}?watch=true&timeoutSeconds=abc`,
    status: 400,
  },
  {
    name: 'dryRun=Some',
    method: 'POST',
    path: `${TD}?dryRun=Some`,
    body: tdJson(),
    contentType: json,
    status: 400,
  },
  // Path tricks.
  { name: 'dot-dot as a name', method: 'GET', path: `${TD}/..`, status: 400 },
  { name: 'encoded dot-dot', method: 'GET', path: `${TD}/%2E%2E`, status: 400 },
  {
    name: 'dot-dot escaping the namespace',
    method: 'GET',
    path: `${BASE}/namespaces/..%2Fbob/toolinstances`,
    status: 400,
  },
  {
    name: 'dot-dot segments',
    method: 'GET',
    path: `${BASE}/namespaces/alice/../bob/toolinstances`,
  },
  { name: 'encoded slash in a name', method: 'GET', path: `${TD}/a%2Fb`, status: 400 },
  { name: 'NUL in a path', method: 'GET', path: `${TD}/a%00b`, status: 400 },
  { name: 'double slashes', method: 'GET', path: `//apis//berth/v1alpha1//tooldefinitions` },
  { name: 'trailing slash', method: 'GET', path: `${TD}/base/` },
  { name: 'overlong name', method: 'GET', path: `${TD}/${'a'.repeat(3000)}`, status: 400 },
  { name: 'overlong segment 10k', method: 'GET', path: `${TD}/${'a'.repeat(10_000)}` },
  {
    name: 'uppercase namespace',
    method: 'GET',
    path: `${BASE}/namespaces/ALICE/toolinstances`,
    status: 400,
  },
  { name: 'bad percent-encoding', method: 'GET', path: `${TD}/%zz` },
  { name: 'truncated UTF-8 percent-encoding', method: 'GET', path: `${TD}/%E0%A4%A` },
  { name: 'unknown kind', method: 'GET', path: `${BASE}/secrets`, status: 404 },
  { name: 'unknown group', method: 'GET', path: '/apis/other/v1/things', status: 404 },
  {
    name: 'status of a kind without one',
    method: 'GET',
    path: `${BASE}/namespaces/alice/events/x/status`,
    status: 404,
  },
  {
    name: 'POST to an all-namespaces list',
    method: 'POST',
    path: `${BASE}/toolinstances`,
    body: '{}',
    contentType: json,
    status: 405,
  },
  { name: 'TRACE', method: 'TRACE', path: TD },
  { name: 'OPTIONS', method: 'OPTIONS', path: TD, status: 405 },
  { name: 'made-up method', method: 'BREW', path: TD },
  // Content types.
  {
    name: 'text/plain',
    method: 'POST',
    path: TD,
    body: tdJson(),
    contentType: 'text/plain',
    status: 415,
  },
  { name: 'no content type', method: 'POST', path: TD, body: tdJson(), status: 415 },
  {
    name: 'latin1 charset',
    method: 'POST',
    path: TD,
    body: tdJson(),
    contentType: 'application/json; charset=latin1',
    status: 415,
  },
  {
    name: 'merge patch type on POST',
    method: 'POST',
    path: TD,
    body: tdJson(),
    contentType: merge,
    status: 415,
  },
  {
    name: 'plain JSON PATCH',
    method: 'PATCH',
    path: `${TD}/base`,
    body: '{}',
    contentType: json,
    status: 415,
    message: /merge-patch/,
  },
  {
    name: 'JSON patch',
    method: 'PATCH',
    path: `${TD}/base`,
    body: '[]',
    contentType: 'application/json-patch+json',
    status: 415,
  },
  {
    name: 'strategic merge patch',
    method: 'PATCH',
    path: `${TD}/base`,
    body: '{}',
    contentType: 'application/strategic-merge-patch+json',
    status: 415,
  },
  {
    name: 'multipart',
    method: 'POST',
    path: TD,
    body: '--x\r\n',
    contentType: 'multipart/form-data; boundary=x',
    status: 415,
  },
  // DELETE options.
  {
    name: 'DeleteOptions wrong type',
    method: 'DELETE',
    path: `${TD}/base`,
    body: '{"preconditions":{"uid":5}}',
    contentType: json,
    status: 400,
  },
  {
    name: 'DeleteOptions unknown field',
    method: 'DELETE',
    path: `${TD}/base`,
    body: '{"bogus":true}',
    contentType: json,
    status: 400,
    message: /bogus/,
  },
  {
    name: 'DeleteOptions broken JSON',
    method: 'DELETE',
    path: `${TD}/base`,
    body: '{',
    contentType: json,
    status: 400,
  },
  {
    name: 'DeleteOptions stale uid',
    method: 'DELETE',
    path: `${TD}/base`,
    body: '{"preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}',
    contentType: json,
    status: 409,
  },
  { name: 'delete a missing object', method: 'DELETE', path: `${TD}/missing`, status: 404 },
  // Status subresource.
  {
    name: 'status PUT namespace mismatch',
    method: 'PUT',
    path: `${TI}/base/status`,
    body: JSON.stringify(toolInstance('bob', 'base')),
    contentType: json,
    status: 400,
  },
  {
    name: 'status merge patch wrong type',
    method: 'PATCH',
    path: `${TI}/base/status`,
    body: '{"status":{"phase":"Exploded"}}',
    contentType: merge,
    status: 422,
  },
  // Tokens and authentication.
  {
    name: 'token body wrong types',
    method: 'POST',
    path: `${BASE}/tokens`,
    body: '{"user":"Bad Name","admin":"yes","expiresIn":"forever"}',
    contentType: json,
    status: 422,
  },
  {
    name: 'token body unknown field',
    method: 'POST',
    path: `${BASE}/tokens`,
    body: '{"user":"x","scope":"all"}',
    contentType: json,
    status: 422,
  },
  {
    name: 'token body missing',
    method: 'POST',
    path: `${BASE}/tokens`,
    contentType: json,
    status: 422,
  },
  { name: 'revoke a malformed id', method: 'DELETE', path: `${BASE}/tokens/zzz`, status: 400 },
  {
    name: 'revoke an unknown id',
    method: 'DELETE',
    path: `${BASE}/tokens/0000000000000000`,
    status: 404,
  },
  {
    name: 'empty bearer',
    method: 'GET',
    path: TD,
    headers: { Authorization: 'Bearer ' },
    status: 401,
  },
  {
    name: 'two bearers',
    method: 'GET',
    path: TD,
    headers: { Authorization: 'Bearer a b' },
    status: 401,
  },
  {
    name: 'very long bearer',
    method: 'GET',
    path: TD,
    headers: { Authorization: `Bearer ${'x'.repeat(8000)}` },
    status: 401,
  },
  {
    name: 'token-shaped garbage',
    method: 'GET',
    path: TD,
    headers: { Authorization: `Bearer berth_0123456789abcdef_${'A'.repeat(43)}` },
    status: 401,
  },
  {
    name: 'SQL in the token id',
    method: 'GET',
    path: TD,
    headers: { Authorization: "Bearer berth_' or 1=1 --_x" },
    status: 401,
  },
  { name: 'bad Content-Length', method: 'POST', path: TD, headers: { 'Content-Length': 'abc' } },
  {
    name: 'duplicate content types',
    method: 'POST',
    path: TD,
    body: tdJson(),
    headers: { 'Content-Type': 'application/json, text/plain' },
    status: 415,
  },
];

test('every hostile request gets a 4xx Status with a useful message', async () => {
  const failures: string[] = [];
  for (const c of CASES) {
    try {
      const res = await run(c);
      assertStatusFailure(c, res);
      if (res.status === 401)
        assert.match(res.headers['www-authenticate'] ?? '', /^Bearer/, c.name);
    } catch (err) {
      failures.push(`${c.name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('malformed bodies on every endpoint and method never cause a 5xx', async () => {
  const endpoints = [
    '/apis',
    BASE,
    TD,
    `${TD}/base`,
    `${TD}/base/status`,
    `${BASE}/toolinstances`,
    TI,
    `${TI}/base`,
    `${TI}/base/status`,
    `${BASE}/events`,
    `${BASE}/namespaces/alice/events`,
    `${BASE}/namespaces/alice/events/x`,
    `${BASE}/whoami`,
    `${BASE}/tokens`,
    `${BASE}/tokens/0123456789abcdef`,
    '/healthz',
    '/readyz',
  ];
  const bodies: [string, string | Buffer][] = [
    [json, '{"a":'],
    [merge, deepArrays(50_000)],
    [applyYaml, billionLaughs],
    ['application/yaml', ': : :'],
    [json, Buffer.alloc(LIMIT + 1, 0x20)],
    ['text/html', '<html>'],
  ];
  const failures: string[] = [];
  for (const path of endpoints) {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const [contentType, body] of bodies) {
        for (const token of ['admin', 'alice', 'none'] as const) {
          const res = await run({ name: 'matrix', method, path, token, body, contentType });
          const ok =
            res.status < 500 && (res.status < 400 || JSON.parse(res.body).kind === 'Status');
          if (!ok)
            failures.push(
              `${method} ${path} ${contentType} ${token}: ${res.status} ${res.body.slice(0, 200)}`,
            );
        }
      }
    }
  }
  assert.deepEqual(failures, []);
});

test('afterwards the store holds only what was created legitimately, and the counter matches the log', async () => {
  const tds = await send(h, 'GET', TD, { token: h.admin });
  assert.deepEqual(
    tds.body.items.map((o: Json) => o.metadata.name),
    ['base'],
  );
  const tis = await send(h, 'GET', `${BASE}/toolinstances`, { token: h.admin });
  assert.deepEqual(
    tis.body.items.map((o: Json) => `${o.metadata.namespace}/${o.metadata.name}`),
    ['alice/base'],
  );
  const events = await send(h, 'GET', `${BASE}/events`, { token: h.admin });
  assert.deepEqual(events.body.items, []);
  const { rows } = await h.db.pool.query<{
    rv: number;
    logged: number;
    max: number | null;
    objects: number;
  }>(
    `select (select rv from rv_counter) as rv, (select count(*)::int from resource_log) as logged,
            (select max(rv) from resource_log) as max, (select count(*)::int from resources) as objects`,
  );
  const r = rows[0]!;
  assert.equal(r.objects, 2);
  assert.equal(r.logged, r.rv, 'one log row per resourceVersion');
  assert.equal(r.max, r.rv);
  // The base objects were never changed by a refused request.
  const base = await send(h, 'GET', `${TD}/base`, { token: h.admin });
  assert.equal(base.body.metadata.generation, 1);
  assert.equal(base.body.spec.description ?? '', '');
});
