// Exactly `count` GET requests over `connections` keep-alive connections, closed
// loop, as fast as the target answers: a known amount of work, for benchmarks that
// count what the target spends on it rather than time it (instructions.ts).
// Args: url, count, connections, headers as JSON. Prints {"ok":N,"failed":N,"problems":[...]}; exits
// 1 when a request failed or answered other than 200.
import { interceptors, Pool } from 'undici';

const [url, countArg, connectionsArg, headersArg] = process.argv.slice(2);
const target = new URL(url!);
const count = Number(countArg);
const connections = Number(connectionsArg);
const headers = JSON.parse(headersArg ?? '{}') as Record<string, string>;
// A request whose keep-alive connection the target closed under it is sent again:
// under valgrind a target can stall past its own keep-alive timeout and close a
// connection that already carries the next request (seen once, beside `make test`).
// Answers other than 200 are not retried: they count as failed.
const pool = new Pool(target.origin, { connections, pipelining: 1 }).compose(
  interceptors.retry({
    maxRetries: 3,
    minTimeout: 10,
    statusCodes: [],
    errorCodes: ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'],
  }),
);

let started = 0;
let ok = 0;
let failed = 0;
/** What went wrong, each kind once, for the error message. */
const problems = new Set<string>();

/** One connection's share: the next request as soon as the previous one is answered. */
async function loop(): Promise<void> {
  while (started < count) {
    started++;
    try {
      const res = await pool.request({ path: target.pathname, method: 'GET', headers });
      await res.body.dump();
      if (res.statusCode === 200) ok++;
      else {
        failed++;
        problems.add(`status ${res.statusCode}`);
      }
    } catch (err) {
      failed++;
      problems.add(String((err as { code?: string }).code ?? err));
    }
  }
}

await Promise.all(Array.from({ length: connections }, loop));
await pool.close();
process.stdout.write(`${JSON.stringify({ ok, failed, problems: [...problems] })}\n`);
process.exitCode = failed === 0 ? 0 : 1;
