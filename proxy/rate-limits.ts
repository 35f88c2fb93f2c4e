// Rate limits of the proxy (rate-limiter-flexible, in this process's memory; each
// replica and worker counts for itself): sign-in attempts per client address
// (the token sign-in POST on berth's host, handoff callbacks on tool hosts) and
// `/_berth/status` per session or token. Over a limit the request gets a 429 with
// Retry-After naming the limit, before anything is done for it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { clientAddress } from '../crds/index.ts';
import type { ProxyConfig } from './config.ts';
import type { ProxyLogger } from './log.ts';
import type { ProxyMetrics } from './metrics.ts';
import { sendError } from './pages/errors.ts';

interface Limit {
  limiter: RateLimiterMemory | undefined;
  /** How the 429 names it, e.g. "60 sign-in attempts per 60 s from one address". */
  words: string;
  setting: string;
  check: string;
}

function limit(
  points: number,
  windowMs: number,
  what: string,
  setting: string,
  check: string,
): Limit {
  return {
    limiter:
      points > 0
        ? new RateLimiterMemory({ keyPrefix: check, points, duration: windowMs / 1000 })
        : undefined,
    words: `${points} ${what} per ${windowMs / 1000} s`,
    setting,
    check,
  };
}

export class ProxyRateLimits {
  readonly #signIn: Limit;
  readonly #status: Limit;
  readonly #trustedHops: number;
  readonly #metrics: ProxyMetrics;
  readonly #log: ProxyLogger;

  constructor(config: ProxyConfig, metrics: ProxyMetrics, log: ProxyLogger) {
    this.#signIn = limit(
      config.signInRateLimit,
      config.signInRateWindowMs,
      'sign-in attempts',
      'BERTH_SIGN_IN_RATE_LIMIT',
      'sign-in-rate',
    );
    this.#status = limit(
      config.statusRateLimit,
      config.statusRateWindowMs,
      'status requests',
      'BERTH_PROXY_STATUS_RATE_LIMIT',
      'status-rate',
    );
    this.#trustedHops = config.trustedHops;
    this.#metrics = metrics;
    this.#log = log;
  }

  /** Counts a sign-in attempt from this client: true when over the limit (429 sent). */
  signInRefused(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const address = clientAddress(req, this.#trustedHops);
    return this.#refused(this.#signIn, address, 'from one address', res, { address });
  }

  /** Counts a status request of this session or token: true when over the limit (429 sent). */
  statusRefused(key: string, res: ServerResponse): Promise<boolean> {
    return this.#refused(this.#status, key, 'from one session', res, {});
  }

  async #refused(
    l: Limit,
    key: string,
    per: string,
    res: ServerResponse,
    logFields: object,
  ): Promise<boolean> {
    if (!l.limiter) return false;
    try {
      await l.limiter.consume(key);
      return false;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      this.#metrics.refused.labels(l.check).inc();
      this.#log.warn({ ...logFields, limit: l.check }, 'rate limit reached');
      sendError(
        res,
        429,
        `Too many requests: the limit of ${l.words} ${per} (${l.setting}) was reached. Try again in ${seconds} s.`,
        '',
        { 'retry-after': String(seconds) },
      );
      return true;
    }
  }
}
