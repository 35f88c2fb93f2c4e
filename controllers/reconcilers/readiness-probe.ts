// The readiness check: HTTP GET http://<task ip>:<gate port><path> with the
// launch's tool secret (the gate admits nothing else, and forwards it to the
// tool); any 2xx or 3xx answer within the timeout means ready. Redirects are not followed (a 302 to a
// login page is an answer). The body is discarded.
import { Agent, request } from 'undici';
import { TOOL_SECRET_HEADER } from '../../store/index.ts';

// Short keep-alive: a probe runs once a second at most per task, and a tool's
// sockets should not stay open because of berth.
const agent = new Agent({
  keepAliveTimeout: 1000,
  keepAliveMaxTimeout: 1000,
  connect: { timeout: 5000 },
});

export interface ProbeResult {
  ok: boolean;
  /** HTTP status, or the network error's code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`). */
  detail: string;
}

export async function probeReadiness(
  ip: string,
  port: number,
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
  toolSecret?: string,
): Promise<ProbeResult> {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await request(`http://${host}:${port}${path}`, {
      method: 'GET',
      dispatcher: agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: {
        'user-agent': 'berth-readiness-probe',
        ...(toolSecret ? { [TOOL_SECRET_HEADER]: toolSecret } : {}),
      },
    });
    await res.body.dump();
    return { ok: res.statusCode >= 200 && res.statusCode < 400, detail: `HTTP ${res.statusCode}` };
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).name;
    return { ok: false, detail: code };
  }
}
