// Counters that never go down. A container's figures can fall: it restarted in
// place (restartOnExit), or a process left its tree without its parent reaping
// it. Prometheus would read a fall as a counter reset and count the whole new
// value again; instead a fall is absorbed into an offset, so the series stays
// flat and then grows by what the container uses from there on. Kept in memory:
// the sidecar's own restart is a genuine reset. A task's containers are fixed,
// so the map stays as small as the task (a container that briefly has no stats
// keeps its offset for when it comes back).
export class MonotonicCounters {
  private readonly series = new Map<string, { last: number; offset: number }>();

  /** The monotonic value of `key` given its raw reading now. */
  value(key: string, raw: number): number {
    const s = this.series.get(key);
    if (!s) {
      this.series.set(key, { last: raw, offset: 0 });
      return raw;
    }
    if (raw < s.last) s.offset += s.last - raw;
    s.last = raw;
    return raw + s.offset;
  }
}
