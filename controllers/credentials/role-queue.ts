// Role changes on one database run one at a time anyway (role-lock.ts), so
// queueing them here costs nothing, while letting 50 launches at once each hold
// an admin pool connection waiting for the lock would exhaust the small pool and
// fail them on its checkout timeout. A few may run at once per database (the
// next one's round trips overlap the current one's lock) and the rest wait in
// memory, with no timeout but the reconcile's own.
const PER_DATABASE = 2;

export class RoleChangeQueue {
  readonly #running = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();

  /** Runs `fn` when fewer than PER_DATABASE role changes of `database` run. */
  async run<T>(database: string, fn: () => Promise<T>): Promise<T> {
    if ((this.#running.get(database) ?? 0) >= PER_DATABASE) {
      await new Promise<void>((resolve) => {
        const list = this.#waiting.get(database) ?? [];
        list.push(resolve);
        this.#waiting.set(database, list);
      });
    } else {
      this.#running.set(database, (this.#running.get(database) ?? 0) + 1);
    }
    try {
      return await fn();
    } finally {
      const next = this.#waiting.get(database)?.shift();
      // The slot passes to the next waiter as is; without one it is freed.
      if (next) next();
      else this.#running.set(database, (this.#running.get(database) ?? 1) - 1);
    }
  }
}
