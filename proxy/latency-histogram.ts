// The proxy's request latency histogram, observed on every proxied request.
// prom-client's Histogram.observe() builds, validates and hashes a label object
// and looks its bucket up by a stringified bound on every call; with the per-code
// counter that was ~5 % of the proxy's CPU per request (bench/proxy, the proxy
// with and without them in interleaved rounds). This one adds to an array and a
// sum, and builds the value list prom-client's Histogram.get() returns only when
// scraped, so the text format and the summing across cluster workers stay
// prom-client's own. No labels: the proxy's latency has none.
import type { Metric, Registry } from 'prom-client';

interface HistogramValue {
  labels: { le?: number | string };
  value: number;
  metricName: string;
}

export class LatencyHistogram {
  readonly name: string;
  readonly help: string;
  // What prom-client's registry and AggregatorRegistry read from a metric.
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: number[];
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(opts: { name: string; help: string; buckets: number[]; registry: Registry }) {
    this.name = opts.name;
    this.help = opts.help;
    this.#bounds = [...opts.buckets].sort((a, b) => a - b);
    this.#counts = new Float64Array(this.#bounds.length + 1);
    // The registry only calls get() and reset() and reads the fields above; its
    // type lists prom-client's own classes, hence the cast.
    opts.registry.registerMetric(this as unknown as Metric);
  }

  observe(seconds: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.#counts[i] = this.#counts[i]! + 1;
    this.#sum += seconds;
    this.#count++;
  }

  /** The metric as prom-client's Histogram.get() gives it: cumulative buckets, +Inf, sum, count. */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: HistogramValue[];
  }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramValue[] = [];
    let cumulative = 0;
    for (const [i, le] of this.#bounds.entries()) {
      cumulative += this.#counts[i]!;
      values.push({ labels: { le }, value: cumulative, metricName: bucket });
    }
    values.push(
      { labels: { le: '+Inf' }, value: this.#count, metricName: bucket },
      { labels: {}, value: this.#sum, metricName: `${this.name}_sum` },
      { labels: {}, value: this.#count, metricName: `${this.name}_count` },
    );
    const { name, help, type, aggregator } = this;
    return { name, help, type, aggregator, values };
  }

  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }
}
