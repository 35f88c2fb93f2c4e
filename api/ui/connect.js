// "How to connect" snippets for one database of a dataset: psql, Python
// (psycopg, SQLAlchemy + pandas) and R (DBI + RPostgres). Every tool gets
// DATABASE_DSN__<dsnName> (libpq keywords) per database, and PGHOST, PGPORT,
// PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE for the first; the snippets read
// those variables and never hold a credential (the UI never sees one).

/** The suffix of DATABASE_DSN__<…>, as crds/database.ts databaseDsnName computes it. */
export function dsnNameOf(db) {
  return db?.spec?.dsnName ?? db?.metadata?.name?.replaceAll('-', '_');
}

/** A PostgreSQL identifier quoted: "my ""odd"" name". */
function ident(name) {
  return `"${String(name).replaceAll('"', '""')}"`;
}

/** Single-quoted string literal for Python and R. */
function quoted(text) {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** [{label, code}] for a database (`dsnName`) and a table of it to show in the examples. */
export function connectSnippets(dsnName, table) {
  const variable = `DATABASE_DSN__${dsnName}`;
  const sql = `SELECT * FROM ${ident(table.schema)}.${ident(table.table)} LIMIT 10`;
  return [
    {
      label: 'psql',
      code: `psql "$${variable}" -c '${sql.replaceAll("'", "'\\''")}'`,
    },
    {
      label: 'Python (psycopg)',
      code: [
        'import os',
        'import psycopg',
        '',
        `with psycopg.connect(os.environ["${variable}"]) as conn:`,
        `    rows = conn.execute(${quoted(sql)}).fetchall()`,
      ].join('\n'),
    },
    {
      label: 'Python (SQLAlchemy and pandas)',
      code: [
        'import os',
        'import pandas as pd',
        'import psycopg',
        'from sqlalchemy import create_engine',
        '',
        '# The variable holds libpq keywords (host=… dbname=…), which psycopg reads as they are.',
        'engine = create_engine(',
        `    "postgresql+psycopg://", creator=lambda: psycopg.connect(os.environ["${variable}"])`,
        ')',
        `df = pd.read_sql(${quoted(sql)}, engine)`,
      ].join('\n'),
    },
    {
      label: 'R (DBI and RPostgres)',
      code: [
        'library(DBI)',
        '',
        `# ${variable} holds libpq keywords: pass them to dbConnect one by one.`,
        `kv <- strsplit(strsplit(Sys.getenv("${variable}"), " ")[[1]], "=")`,
        'args <- setNames(lapply(kv, function(p) paste(p[-1], collapse = "=")), sapply(kv, `[`, 1))',
        'con <- do.call(dbConnect, c(list(RPostgres::Postgres()), args))',
        '# (For your first database, dbConnect(RPostgres::Postgres()) alone reads PGHOST, PGUSER, …)',
        `df <- dbGetQuery(con, ${quoted(sql)})`,
      ].join('\n'),
    },
  ];
}
