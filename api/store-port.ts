// The store operations the API uses, keyed by {namespace, name}, in one place:
// routes stay readable and tests could substitute a store.
import type { BerthObject } from '../crds/index.ts';
import type {
  ApplyOptions,
  ApplyResult,
  DeleteOptions,
  ListOptions,
  ListResult,
  RecordEventInput,
  ResourceStore,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../store/index.ts';

export interface Key {
  namespace?: string;
  name: string;
}

export interface StorePort {
  get(kind: string, key: Key): Promise<BerthObject>;
  list(kind: string, opts: ListOptions): Promise<ListResult>;
  create(kind: string, obj: BerthObject, opts: WriteOptions): Promise<BerthObject>;
  update(kind: string, obj: BerthObject, opts: WriteOptions): Promise<BerthObject>;
  patch(kind: string, key: Key, patch: unknown, opts: WriteOptions): Promise<BerthObject>;
  updateStatus(kind: string, obj: BerthObject, opts: WriteOptions): Promise<BerthObject>;
  patchStatus(kind: string, key: Key, patch: unknown, opts: WriteOptions): Promise<BerthObject>;
  apply(kind: string, manifest: BerthObject, opts: ApplyOptions): Promise<ApplyResult>;
  delete(kind: string, key: Key, opts: DeleteOptions): Promise<BerthObject>;
  /** Resolves once the watch is set up (410 Gone and bad selectors reject here). */
  watch(kind: string, opts: WatchOptions): Promise<AsyncIterableIterator<WatchEvent>>;
  /** An aggregated Event (why the API did something to an object, e.g. stopped it). */
  recordEvent(input: RecordEventInput): Promise<BerthObject>;
}

export function storePort(store: ResourceStore): StorePort {
  return {
    get: (kind, key) => store.get(kind, key.namespace, key.name),
    list: (kind, opts) => store.list(kind, opts),
    create: (kind, obj, opts) => store.create(kind, obj, opts),
    update: (kind, obj, opts) => store.update(kind, obj, opts),
    patch: (kind, key, patch, opts) => store.patch(kind, key.namespace, key.name, patch, opts),
    updateStatus: (kind, obj, opts) => store.updateStatus(kind, obj, opts),
    patchStatus: (kind, key, patch, opts) =>
      store.patchStatus(kind, key.namespace, key.name, patch, opts),
    apply: (kind, manifest, opts) => store.apply(kind, manifest, opts),
    delete: (kind, key, opts) => store.delete(kind, key.namespace, key.name, opts),
    watch: (kind, opts) => store.watch(kind, opts),
    recordEvent: (input) => store.recordEvent(input),
  };
}
