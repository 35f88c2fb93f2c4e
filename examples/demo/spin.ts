// Busy work on request, so tests and people can see the culler leave a busy
// tool alone: one core burnt for N seconds in a worker thread (the server keeps
// answering meanwhile). A new request extends the current spin, never stacks.
import { Worker } from 'node:worker_threads';

/** The longest spin one request may ask for. */
export const MAX_SPIN_SECONDS = 3600;

// CommonJS source for an eval worker: spin until the deadline.
const BURN = `
const { workerData } = require('node:worker_threads');
let x = 0;
while (Date.now() < workerData.until) x = Math.sqrt(x + 1);
`;

let worker: Worker | undefined;
let until = 0;

/** Spins one core for `seconds` from now (or keeps the later of this and the current spin). */
export function spin(seconds: number): { spinning: boolean; until: string } {
  const end = Date.now() + Math.min(MAX_SPIN_SECONDS, Math.max(0, seconds)) * 1000;
  if (end > until) {
    until = end;
    void worker?.terminate();
    const w = new Worker(BURN, { eval: true, workerData: { until } });
    worker = w;
    w.once('exit', () => {
      if (worker === w) worker = undefined;
    });
    w.unref();
  }
  return spinState();
}

export function spinState(): { spinning: boolean; until: string } {
  const spinning = worker !== undefined && Date.now() < until;
  return { spinning, until: new Date(until).toISOString() };
}

/** `spin:N` from a WebSocket message; undefined for any other message. */
export function spinRequest(message: string): number | undefined {
  const m = /^spin:(\d+(?:\.\d+)?)$/.exec(message.trim());
  return m ? Number(m[1]) : undefined;
}
