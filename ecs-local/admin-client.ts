// A client for ecs-local's admin endpoint (/_ecs-local/...), which, like its AWS
// APIs, answers only requests SigV4-signed with its key pair (service
// `ecs-local`). Used by tests, benches and anyone scripting ecs-local.
import { SignatureV4 } from '@smithy/signature-v4';
import { type AccessKeyPair, Sha256 } from './auth.ts';

export interface AdminRequest {
  method?: string;
  body?: string;
}

/** fetch() of `<baseUrl><path>` (path starting /_ecs-local/), signed with `credentials`. */
export async function adminFetch(
  baseUrl: string,
  credentials: AccessKeyPair,
  path: string,
  init: AdminRequest = {},
): Promise<Response> {
  const url = new URL(path, baseUrl);
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { host: url.host };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const signer = new SignatureV4({
    credentials,
    region: 'us-east-1',
    service: 'ecs-local',
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: init.body,
  });
  const sent = { ...(signed.headers as Record<string, string>) };
  delete sent.host; // fetch sets it (the same value)
  return fetch(url, { method, headers: sent, body: init.body });
}
