// Latency at a fixed offered load, open loop: requests leave on a schedule
// (`rate` per second) whether or not earlier ones have come back, and each one's
// latency counts from when it was handed to the client pool, so a wait for a free
// connection (the target being slow) counts too: no coordinated omission. It does
// not count from the schedule itself, whose 1 ms timer tick would add its own
// 1-2 ms to every figure. wrk's closed loop only gives latency at saturation,
// which says how long the queue is, not what a request costs.
// The first second runs at the same rate unrecorded (the generator's JIT, its
// connections). Args: url, rate (req/s), seconds, headers as JSON. Prints one
// JSON line: {"sent":N,"ok":N,"errors":N,"p50":ms,"p99":ms,"p999":ms} (recorded part).
import { Pool } from 'undici';

const [url, rateArg, secondsArg, headersArg] = process.argv.slice(2);
const target = new URL(url!);
const rate = Number(rateArg);
const warmUpMs = 1000;
const total = Math.round((rate * (Number(secondsArg) * 1000 + warmUpMs)) / 1000);
const headers = JSON.parse(headersArg ?? '{}') as Record<string, string>;
const pool = new Pool(target.origin, { connections: 50, pipelining: 1 });

const latencies: number[] = [];
let errors = 0;
let recorded = 0;
let sent = 0;
let settled = 0;
const start = performance.now();

await new Promise<void>((resolve) => {
  const settle = () => {
    if (++settled === total) resolve();
  };
  const send = (due: number) => {
    const record = due >= start + warmUpMs;
    const sentAt = performance.now();
    if (record) recorded++;
    pool.request({ path: target.pathname, method: 'GET', headers }).then(
      async (res) => {
        await res.body.dump();
        if (record && res.statusCode === 200) latencies.push(performance.now() - sentAt);
        else if (record) errors++;
        settle();
      },
      () => {
        if (record) errors++;
        settle();
      },
    );
  };
  // A 1 ms tick sends every request that has fallen due since the last one.
  const tick = () => {
    const owed = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < owed) send(start + (sent++ * 1000) / rate);
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
});
await pool.close();

latencies.sort((a, b) => a - b);
const at = (q: number) =>
  latencies.length
    ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!
    : NaN;
process.stdout.write(
  `${JSON.stringify({ sent: recorded, ok: latencies.length, errors, p50: at(0.5), p99: at(0.99), p999: at(0.999) })}\n`,
);
