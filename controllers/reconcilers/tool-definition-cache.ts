// ToolDefinitions by name with a short time to live, for the poller (readiness
// settings, spawn timeout). The reconciler always reads the store itself.
import { isApiError, type ToolDefinition } from '../../crds/index.ts';
import type { ResourceStore } from '../../store/index.ts';

export class ToolDefinitionCache {
  readonly #store: ResourceStore;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { td: ToolDefinition | undefined; at: number }>();

  constructor(store: ResourceStore, ttlMs = 10_000) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  async get(name: string, now = Date.now()): Promise<ToolDefinition | undefined> {
    const hit = this.#entries.get(name);
    if (hit && now - hit.at < this.#ttlMs) return hit.td;
    let td: ToolDefinition | undefined;
    try {
      td = (await this.#store.get('ToolDefinition', undefined, name)) as ToolDefinition;
    } catch (err) {
      if (!isApiError(err, 'NotFound')) throw err;
    }
    this.#entries.set(name, { td, at: now });
    return td;
  }
}
