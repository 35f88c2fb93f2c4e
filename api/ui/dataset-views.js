// The Data page's pieces that depend only on what they are given: a dataset's
// card and tables, its "how to connect" panels, the who-has-access table.
import { connectSnippets, dsnNameOf } from './connect.js';
import { h } from './format.js';

/** A dataset's card: title, description, then `body`. */
export function datasetCard(ds, ...body) {
  return h(
    'article',
    { class: 'card dataset', 'data-dataset': ds.metadata.name },
    h('h3', {}, ds.spec.title),
    ds.spec.description ? h('p', {}, ds.spec.description) : null,
    ...body,
  );
}

/** The table of a dataset's tables (database, schema, table). */
export function tablesOf(ds) {
  return h(
    'table',
    { class: 'tables', 'aria-label': `Tables of ${ds.spec.title}` },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Database', 'Schema', 'Table'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      ds.spec.tables.map((t) =>
        h('tr', {}, h('td', {}, t.database), h('td', {}, t.schema), h('td', {}, t.table)),
      ),
    ),
  );
}

/**
 * One "how to connect" panel per database the dataset's tables are in, with
 * psql/Python/R snippets; `opened` remembers the panels a person opened, so they
 * stay open across redraws.
 */
export function howToConnect(ds, databases, opened) {
  const byDatabase = new Map();
  for (const t of ds.spec.tables) if (!byDatabase.has(t.database)) byDatabase.set(t.database, t);
  return [...byDatabase].map(([dbName, table]) => {
    const db = databases.get(`/${dbName}`);
    // Without the Database object, the dsnName is the name's default.
    const dsn = dsnNameOf(db ?? { metadata: { name: dbName }, spec: {} });
    const key = `${ds.metadata.name}/${dbName}`;
    return h(
      'details',
      {
        class: 'connect',
        'data-database': dbName,
        open: opened.has(key),
        ontoggle: (e) => {
          if (e.target.open) opened.add(key);
          else opened.delete(key);
        },
      },
      h('summary', {}, `How to connect to ${dbName}`),
      h(
        'p',
        { class: 'muted' },
        'In your tools, the environment variable ',
        h('code', {}, `DATABASE_DSN__${dsn}`),
        ' holds your own login for this database',
        db ? ` (${db.spec.dbname} on ${db.spec.host})` : '',
        '.',
      ),
      connectSnippets(dsn, table).map((s) =>
        h(
          'figure',
          { 'aria-label': `${s.label} for ${dbName}` },
          h('figcaption', {}, s.label),
          h('pre', {}, h('code', {}, s.code)),
        ),
      ),
    );
  });
}

/** Who has access to each of `datasets` (those whose status.access the API showed). */
export function whoHasAccess(datasets) {
  const shown = [...datasets].sort((a, b) => a.spec.title.localeCompare(b.spec.title));
  if (shown.length === 0)
    return h('p', { class: 'muted' }, 'berth has not worked out who has access yet.');
  const names = (list) => (list?.length ? list.join(', ') : 'nobody');
  return h(
    'table',
    { 'aria-labelledby': 'data-who-h' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Dataset', 'Users', 'Shared apps'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      shown.map((ds) => {
        const a = ds.status.access;
        return h(
          'tr',
          { 'data-who': ds.metadata.name },
          h('td', {}, ds.spec.title),
          h('td', {}, a.everyone ? 'everyone signed in' : names(a.users)),
          h('td', {}, names(a.apps)),
        );
      }),
    ),
  );
}
