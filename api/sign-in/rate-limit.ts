// Sign-in attempts per client address (rate-limiter-flexible, in this process's
// memory): /auth/sign-in, /auth/dev-sign-in and /auth/callback each start or
// finish a sign-in (an identity-provider round trip, a state record, a session).
// Over the limit the request gets a 429 page with Retry-After and nothing is done.
// The client address is read as the proxy reads it (crds/client-address.ts):
// the X-Forwarded-For entry written by the outermost of `trustedHops` proxies.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { clientAddress } from '../../crds/index.ts';
import type { SignInConfig } from './config.ts';
import { sendPage } from './pages.ts';

export class SignInRateLimit {
  readonly #limiter: RateLimiterMemory | undefined;
  readonly #config: Pick<SignInConfig, 'signInRateLimit' | 'signInRateWindowMs' | 'trustedHops'>;

  constructor(
    config: Pick<SignInConfig, 'signInRateLimit' | 'signInRateWindowMs' | 'trustedHops'>,
  ) {
    this.#config = config;
    this.#limiter =
      config.signInRateLimit > 0
        ? new RateLimiterMemory({
            keyPrefix: 'sign-in',
            points: config.signInRateLimit,
            duration: config.signInRateWindowMs / 1000,
          })
        : undefined;
  }

  /** Counts a sign-in attempt: true when it is over the limit (the 429 has then been sent). */
  async refused(req: FastifyRequest, reply: FastifyReply, devBanner: boolean): Promise<boolean> {
    if (!this.#limiter) return false;
    const address = clientAddress(req.raw, this.#config.trustedHops);
    try {
      await this.#limiter.consume(address);
      return false;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      const limit = `${this.#config.signInRateLimit} sign-in attempts per ${this.#config.signInRateWindowMs / 1000} s from one address`;
      req.log.warn({ address, limit: 'sign-in' }, 'sign-in rate limit reached');
      reply.header('retry-after', String(seconds));
      sendPage(
        reply,
        429,
        'Too many sign-in attempts',
        `<h1>Too many sign-in attempts</h1>
<p class="error-message">${limit} (BERTH_SIGN_IN_RATE_LIMIT) were reached. Try again in ${seconds} s.</p>`,
        devBanner,
      );
      return true;
    }
  }
}
