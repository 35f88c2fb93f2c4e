// Shared by the data-kind API tests: a Database, Datasets and AccessRequests as
// their authors would write them, and users with the roles the tests need.
import assert from 'node:assert/strict';
import { BASE, type Harness, type Json, send } from './support.ts';

export function database(name: string): Json {
  return {
    apiVersion: 'berth/v1alpha1',
    kind: 'Database',
    metadata: { name },
    spec: {
      host: 'db.internal',
      dbname: 'datasets',
      adminCredentials: { fromEnv: 'DATASETS_ADMIN' },
    },
  };
}

export function dataset(
  name: string,
  access: Json = { type: 'named' },
  approvers: Json = { users: [], groups: [] },
): Json {
  return {
    apiVersion: 'berth/v1alpha1',
    kind: 'Dataset',
    metadata: { name },
    spec: {
      title: `The ${name} dataset`,
      tables: [{ database: 'warehouse', schema: 'public', table: name.replaceAll('-', '_') }],
      access,
      approvers,
    },
  };
}

export function accessRequest(name: string, datasetName: string, reason = 'for my analysis'): Json {
  return {
    apiVersion: 'berth/v1alpha1',
    kind: 'AccessRequest',
    metadata: { name },
    spec: { dataset: datasetName, reason },
  };
}

/** A user with `groups` and a token for them. */
export async function userToken(h: Harness, name: string, groups: string[] = []): Promise<string> {
  await h.api.identity.upsertUser({ name, groups });
  return (await h.api.identity.createToken({ user: name })).token;
}

/** Creates (as admin) and checks it worked. */
export async function adminCreate(h: Harness, path: string, body: Json): Promise<Json> {
  const r = await send(h, 'POST', `${BASE}/${path}`, { token: h.admin, body });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

/** Sets a Dataset's status.access as the controllers would (admins may write status). */
export async function setDatasetAccess(h: Harness, name: string, users: string[]): Promise<void> {
  const r = await send(h, 'PATCH', `${BASE}/datasets/${name}/status`, {
    token: h.admin,
    contentType: 'application/merge-patch+json',
    body: { status: { access: { everyone: false, users, apps: [] } } },
  });
  assert.equal(r.status, 200, r.text);
}

export async function requestAs(
  h: Harness,
  token: string,
  ns: string,
  name: string,
  datasetName: string,
): Promise<{ status: number; body: Json; text: string }> {
  return await send(h, 'POST', `${BASE}/namespaces/${ns}/accessrequests`, {
    token,
    body: accessRequest(name, datasetName),
  });
}

export async function decideAs(
  h: Harness,
  token: string,
  ns: string,
  name: string,
  body: Json,
): Promise<{ status: number; body: Json; text: string }> {
  return await send(h, 'POST', `${BASE}/namespaces/${ns}/accessrequests/${name}/approval`, {
    token,
    body,
  });
}
