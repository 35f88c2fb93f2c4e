// /metrics for a proxy running as several processes (node:cluster, `berth proxy`
// with BERTH_PROXY_WORKERS > 1). A scrape reaches one worker, so that worker asks
// the primary, which gathers every worker's registry through prom-client's
// AggregatorRegistry (counters and histograms summed, gauges by their aggregator)
// and answers over IPC. Without an answer in time the worker reports its own
// metrics rather than none.
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'berth:metrics-request';
const ANSWER = 'berth:metrics-answer';
const TIMEOUT_MS = 5_000;

interface Answer {
  type: typeof ANSWER;
  id: number;
  body?: string;
  error?: string;
}

function isAnswer(m: unknown): m is Answer {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === ANSWER;
}

/** Worker side: offers `registry` to the primary and returns the /metrics body source. */
export function clusterMetricsText(registry: Registry): () => Promise<string> {
  // Constructing one installs prom-client's worker-side listener; setRegistries
  // makes it report ours rather than the global registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const waiting = new Map<number, (a: Answer | undefined) => void>();
  process.on('message', (m: unknown) => {
    if (isAnswer(m)) waiting.get(m.id)?.(m);
  });
  return async () => {
    if (!process.send) return registry.metrics();
    const id = next++;
    const answer = await new Promise<Answer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), TIMEOUT_MS);
      waiting.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      process.send!({ type: REQUEST, id });
    });
    waiting.delete(id);
    return answer?.body ?? registry.metrics();
  };
}

/** How many workers are connected (so a dashboard sees a worker missing from the sums). */
function workersGauge(): string {
  const n = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected()).length;
  return `# HELP berth_proxy_workers Proxy worker processes connected to the primary\n# TYPE berth_proxy_workers gauge\nberth_proxy_workers ${n}\n`;
}

/** Primary side: answers the workers' requests with every worker's metrics. */
export function answerMetricsRequests(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, m: unknown) => {
    if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== REQUEST) return;
    const id = (m as { id: number }).id;
    aggregator.clusterMetrics().then(
      (body) => worker.send({ type: ANSWER, id, body: body + workersGauge() } satisfies Answer),
      (err: unknown) => worker.send({ type: ANSWER, id, error: String(err) } satisfies Answer),
    );
  });
}
