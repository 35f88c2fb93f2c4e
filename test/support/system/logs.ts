// The daemons' warnings and errors, counted by message: what the controllers kept
// saying while something did not converge (pino JSON lines at warn and above;
// a plain line only when it reads like an error).
import { readFileSync } from 'node:fs';
import type { Daemon } from './daemon.ts';

export interface LogCount {
  daemon: string;
  line: string;
  count: number;
}

function summarise(line: string): string | undefined {
  let o: {
    level?: number;
    msg?: string;
    err?: string | { type?: string; message?: string };
    [k: string]: unknown;
  };
  try {
    o = JSON.parse(line);
  } catch {
    // Plain lines are start-up banners, unless they say something failed.
    return /error|fail|warn|uncaught/i.test(line) ? line.trim().slice(0, 200) : undefined;
  }
  if ((o.level ?? 0) < 40) return undefined;
  const err =
    typeof o.err === 'string'
      ? `: ${o.err}`
      : o.err
        ? ` ${o.err.type ?? ''}: ${o.err.message ?? ''}`
        : '';
  const reason = typeof o.reason === 'string' ? ` (${o.reason})` : '';
  const key = typeof o.key === 'string' ? ` [${o.key.split('/')[0]}]` : '';
  // Numbers (ids, ports, durations) vary; the message's shape is what repeats.
  return `${o.msg ?? ''}${key}${reason}${err}`.replace(/\d+/g, 'N').slice(0, 300);
}

/** Warning and error lines of every start of each daemon, most frequent first. */
export function warningsByMessage(daemons: Daemon[], top = 15): LogCount[] {
  const counts = new Map<string, LogCount>();
  for (const d of daemons) {
    const kind = d.name.replace(/-\d+$/, '');
    for (const file of d.logFiles) {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      for (const raw of text.split('\n')) {
        const line = summarise(raw);
        if (!line) continue;
        const k = `${kind}\u0000${line}`;
        const c = counts.get(k) ?? { daemon: kind, line, count: 0 };
        c.count += 1;
        counts.set(k, c);
      }
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count).slice(0, top);
}
