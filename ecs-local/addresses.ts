// Loopback address allocation: each task gets its own 127.<octet>.x.y, as each
// awsvpc task gets its own ENI address. On Linux all of 127.0.0.0/8 is routed to
// `lo`, so a process can bind any of them with no setup.
export class AddressPool {
  private readonly octet: number;
  private readonly inUse = new Set<string>();
  private next = 0;
  constructor(octet: number) {
    this.octet = octet;
  }

  /** 127.<octet>.1.1 upwards; 127.<octet>.0.x is left alone (127.0.0.1 is ours). */
  allocate(): string {
    const capacity = 255 * 254;
    for (let tries = 0; tries < capacity; tries++) {
      const n = this.next;
      this.next = (this.next + 1) % capacity;
      const ip = `127.${this.octet}.${1 + Math.floor(n / 254)}.${1 + (n % 254)}`;
      if (!this.inUse.has(ip)) {
        this.inUse.add(ip);
        return ip;
      }
    }
    throw new Error('ecs-local: no free loopback address');
  }

  release(ip: string): void {
    this.inUse.delete(ip);
  }
}
