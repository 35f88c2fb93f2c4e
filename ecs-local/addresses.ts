// Loopback address allocation: each task gets its own 127.<octet>.x.y, as each
// awsvpc task gets its own ENI address. On Linux all of 127.0.0.0/8 is routed to
// `lo`, so a process can bind any of them with no setup.
//
// An address is handed out only when the task's container ports can be bound
// there: a process from an earlier run (or anything else) still listening on
// 127.0.1.1:8888 would otherwise keep the port, and a client of the new task
// would reach the old process instead.
import { createServer } from 'node:net';

/** Addresses whose ports were found taken before allocation gives up. */
const MAX_TAKEN = 64;

export class AddressPool {
  private readonly octet: number;
  private readonly inUse = new Set<string>();
  private next = 0;
  constructor(octet: number) {
    this.octet = octet;
  }

  /**
   * The next free address, 127.<octet>.1.1 upwards (127.<octet>.0.x is left
   * alone: 127.0.0.1 is ours), on which every one of `ports` can be bound.
   * Addresses where one is taken are skipped; after MAX_TAKEN of them, throws.
   */
  async allocate(ports: readonly number[] = []): Promise<string> {
    const capacity = 255 * 254;
    const taken: string[] = [];
    for (let tries = 0; tries < capacity && taken.length < MAX_TAKEN; tries++) {
      const n = this.next;
      this.next = (this.next + 1) % capacity;
      const ip = `127.${this.octet}.${1 + Math.floor(n / 254)}.${1 + (n % 254)}`;
      if (this.inUse.has(ip)) continue;
      // Reserved while it is checked, so a concurrent allocation never gets it too.
      this.inUse.add(ip);
      if (await allBindable(ip, ports)) return ip;
      this.inUse.delete(ip);
      taken.push(ip);
    }
    if (taken.length === 0) throw new AddressError('no free loopback address is left');
    throw new AddressError(
      `port${ports.length > 1 ? 's' : ''} ${[...new Set(ports)].join(', ')} already in use on each of the ${taken.length} addresses tried (${taken[0]} to ${taken.at(-1)})`,
    );
  }

  release(ip: string): void {
    this.inUse.delete(ip);
  }
}

export class AddressError extends Error {}

async function allBindable(ip: string, ports: readonly number[]): Promise<boolean> {
  for (const port of new Set(ports)) {
    if (!(await bindable(ip, port))) return false;
  }
  return true;
}

/**
 * Whether `ip:port` can be listened on now. Only EADDRINUSE counts as taken: any
 * other refusal (EACCES for a port below 1024, say) is the container's to meet
 * and report, as it would on any address.
 */
function bindable(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'EADDRINUSE'));
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
