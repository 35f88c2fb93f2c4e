// Local changes from the kernel (inotify through @parcel/watcher), never by
// polling the tree: relative paths to the callback; a watcher error is reported
// so /healthz can say the watcher died.
import { relative, sep } from 'node:path';
import watcher from '@parcel/watcher';

export interface Watching {
  stop(): Promise<void>;
}

export async function watchHome(
  homeReal: string,
  onChange: (rel: string, type: 'create' | 'update' | 'delete') => void,
  onError: (err: Error) => void,
): Promise<Watching> {
  const sub = await watcher.subscribe(
    homeReal,
    (err, events) => {
      if (err) {
        onError(err);
        return;
      }
      for (const e of events) {
        const rel = relative(homeReal, e.path).split(sep).join('/');
        if (rel === '' || rel.startsWith('..')) continue;
        onChange(rel, e.type);
      }
    },
    { ignore: ['.s3sync'] },
  );
  return { stop: () => sub.unsubscribe() };
}
