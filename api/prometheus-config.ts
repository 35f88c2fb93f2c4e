// The Prometheus configuration that reads the API's discovery
// (routes/prometheus-targets.ts), in one place for `berth up` and the tests.
//
// The series' user, tool_instance, tool and task labels come from discovery
// (berth's records), not from what the scraped endpoint says: the sidecar runs
// in a task its user controls, so what it exposes is not trusted to name
// another user's instance. honor_labels stays false (Prometheus renames the
// scraped copies exported_*), and those copies are then dropped.
import { stringify } from 'yaml';

export interface PrometheusScrapeConfigOptions {
  /** The API's discovery URL, e.g. `http://127.0.0.1:8080/apis/berth/v1alpha1/prometheus-targets`. */
  sdUrl: string;
  /** A file holding BERTH_PROMETHEUS_SD_TOKEN (mode 0600): never on a command line or in the config. */
  credentialsFile: string;
  /** How often each sidecar is scraped. */
  scrapeIntervalMs: number;
  /** How often Prometheus asks the API for targets. */
  refreshIntervalMs: number;
  /** Prometheus's own `host:port`: a `prometheus` job scrapes it too (its own health, kept in its tsdb). */
  selfScrape?: string;
}

/** A Prometheus duration (`1500ms`, `15s`): whole milliseconds always parse. */
function duration(ms: number): string {
  const whole = Math.max(1, Math.round(ms));
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${whole}ms`;
}

/** The labels berth's discovery sets on every series of a tool's sidecar. */
export const DISCOVERED_LABELS = ['user', 'tool_instance', 'tool', 'task'] as const;

/** prometheus.yml (YAML text) with one job, `berth-tools`, discovered through the API. */
export function prometheusScrapeConfig(o: PrometheusScrapeConfigOptions): string {
  const interval = duration(o.scrapeIntervalMs);
  // A scrape may not take longer than its interval; 10 s is Prometheus's own default.
  const timeout = duration(Math.min(o.scrapeIntervalMs, 10_000));
  const config = {
    global: { scrape_interval: interval, scrape_timeout: timeout, evaluation_interval: interval },
    scrape_configs: [
      {
        job_name: 'berth-tools',
        scrape_interval: interval,
        scrape_timeout: timeout,
        metrics_path: '/metrics',
        honor_labels: false,
        http_sd_configs: [
          {
            url: o.sdUrl,
            refresh_interval: duration(o.refreshIntervalMs),
            authorization: { type: 'Bearer', credentials_file: o.credentialsFile },
          },
        ],
        relabel_configs: [
          { source_labels: ['__meta_berth_namespace'], target_label: 'user' },
          { source_labels: ['__meta_berth_instance'], target_label: 'tool_instance' },
          { source_labels: ['__meta_berth_tool'], target_label: 'tool' },
          // The task id: the last part of the task ARN, as the sidecar labels it.
          {
            source_labels: ['__meta_berth_task_arn'],
            regex: '(?:.*/)?([^/]+)',
            target_label: 'task',
            replacement: '$1',
          },
        ],
        metric_relabel_configs: [
          { action: 'labeldrop', regex: `exported_(${DISCOVERED_LABELS.join('|')})` },
        ],
      },
      ...(o.selfScrape
        ? [{ job_name: 'prometheus', static_configs: [{ targets: [o.selfScrape] }] }]
        : []),
    ],
  };
  return stringify(config);
}
