// The tool ports `berth doctor` checks the security groups on: the gate's, and
// every ToolDefinition's `spec.port` when the berth API (the CLI's server and
// token) answers; the gate's alone otherwise.
import { request } from 'undici';
import { loadConfig } from '../cli/index.ts';
import { GATE_PORT } from '../controllers/index.ts';

export async function doctorToolPorts(env: Record<string, string | undefined>): Promise<number[]> {
  // The gate's port as the controllers read it (BERTH_GATE_PORT), else its default.
  const gate = Number(env.BERTH_GATE_PORT) || GATE_PORT;
  const ports = new Set([gate]);
  try {
    const cli = await loadConfig(env as NodeJS.ProcessEnv);
    if (!cli.token) return [...ports];
    const res = await request(
      `${cli.server.replace(/\/+$/, '')}/apis/berth/v1alpha1/tooldefinitions`,
      {
        headers: { authorization: `Bearer ${cli.token}` },
        headersTimeout: 5000,
        bodyTimeout: 5000,
      },
    );
    if (res.statusCode !== 200) {
      await res.body.dump();
      return [...ports];
    }
    const list = (await res.body.json()) as { items?: { spec?: { port?: unknown } }[] };
    for (const td of list.items ?? []) {
      if (typeof td.spec?.port === 'number') ports.add(td.spec.port);
    }
  } catch {
    // No API to ask: the gate's port is checked all the same.
  }
  return [...ports].sort((a, b) => a - b);
}
