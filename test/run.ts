// Runs the whole suite: starts one embedded PostgreSQL for the run (unless
// DATABASE_URL is set), hands its address to the test files, which each create
// their own fresh database from it, and stops it afterwards.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { generateToolSecretKey, startEmbeddedPostgres } from '../store/index.ts';

const root = join(import.meta.dirname, '..');
// Arguments are test files, globs or folders (a folder means every test file below it).
const files = process.argv.slice(2).map((arg) => {
  try {
    return statSync(arg).isDirectory() ? `${arg.replace(/\/+$/, '')}/**/*.test.ts` : arg;
  } catch {
    return arg;
  }
});
let stop = async () => {};
let adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  const dataDir = join(root, '.data', `test-postgres-${process.pid}`);
  const db = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  adminUrl = db.url;
  stop = db.stop;
  console.log('test: embedded PostgreSQL started for this run');
}

const concurrency = process.env.TEST_CONCURRENCY ?? '3';
const args = [
  '--disable-warning=ExperimentalWarning',
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-reporter=spec',
  ...(files.length ? files : ['test/**/*.test.ts']),
];
const child = spawn(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    BERTH_TEST_ADMIN_DATABASE_URL: adminUrl,
    // The controllers and the proxy refuse to start without one; one per run, as a deployment has.
    BERTH_TOOL_SECRET_KEY: process.env.BERTH_TOOL_SECRET_KEY || generateToolSecretKey(),
    // Database logins' passwords are derived from it (controllers/credentials); one per run too.
    BERTH_CREDENTIALS_KEY: process.env.BERTH_CREDENTIALS_KEY || generateToolSecretKey(),
  },
});
const code: number = await new Promise((resolve) =>
  child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))),
);
await stop();
process.exit(code);
