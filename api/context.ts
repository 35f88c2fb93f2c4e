// What every route needs, built once by server.ts.
import type { FastifyRequest } from 'fastify';
import { ApiError, type KindInfo } from '../crds/index.ts';
import type { Identity, Pool, Principal } from '../store/index.ts';
import type { ApiConfig } from './config.ts';
import type { ApiMetrics } from './metrics.ts';
import type { StorePort } from './store-port.ts';
import type { WatchLimiter } from './watch-limiter.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on routes that require a token. */
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** Routes open without a token (health, metrics). */
    public?: boolean;
  }
}

export interface ApiDeps {
  pool: Pool;
  store: StorePort;
  identity: Identity;
  config: ApiConfig;
  metrics: ApiMetrics;
  watches: WatchLimiter;
  kinds: readonly KindInfo[];
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new ApiError('Unauthorized', 'authentication required');
  return req.principal;
}

/** Rejects with 504 Timeout when `work` takes longer than `ms` (the work itself is not cancelled). */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ApiError('Timeout', `${what} did not finish within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
