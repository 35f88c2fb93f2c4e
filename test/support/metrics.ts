// Reads a metric the way a scrape would see it: from a prom-client Registry in
// this process, or from the Prometheus text a /metrics endpoint answered.
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;

function textSamples(text: string, name: string): { labels: Labels; value: number }[] {
  const out: { labels: Labels; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Labels = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * The sum of metric `name`'s samples whose labels include `labels` (all of them
 * when none are given); 0 when there are none. `source` is a Registry or the
 * text of a /metrics answer. For a histogram, name the series (`x_count`, `x_sum`)
 * when reading text; a Registry's histogram counts its samples as prom-client lists them.
 */
export async function metricValue(
  source: Registry | string,
  name: string,
  labels: Labels = {},
): Promise<number> {
  const samples =
    typeof source === 'string'
      ? textSamples(source, name)
      : ((await source.getSingleMetric(name)?.get())?.values ?? []).map((v) => ({
          labels: v.labels as Labels,
          value: v.value,
        }));
  return samples
    .filter((s) => Object.entries(labels).every(([k, v]) => String(s.labels[k]) === v))
    .reduce((sum, s) => sum + s.value, 0);
}
