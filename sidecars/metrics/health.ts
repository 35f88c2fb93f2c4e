// `main.ts healthcheck` (the ECS health check, ["CMD", "metrics", "healthcheck"]):
// true when /healthz answers 200. Imports nothing heavy: ECS runs it every interval.
export async function checkHealth(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  // A wildcard address is where it listens, not where to connect.
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const hostPart = target.includes(':') ? `[${target}]` : target;
  try {
    const res = await fetch(`http://${hostPart}:${port}/healthz`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}
