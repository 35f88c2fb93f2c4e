// `make bench`: runs every benchmark script (bench/<area>/*.ts, not *.lib.ts) one
// after another, each in its own process, and stops at the first failure.
// `node bench/run.ts store` runs one area.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = import.meta.dirname;
const areas = process.argv.slice(2);
const dirs = readdirSync(root)
  .filter((d) => statSync(join(root, d)).isDirectory())
  .filter((d) => areas.length === 0 || areas.includes(d))
  .sort();
for (const dir of dirs) {
  const scripts = readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.lib.ts'))
    .sort();
  for (const script of scripts) {
    const path = join(root, dir, script);
    console.log(`\n=== bench/${dir}/${script}`);
    const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', path], {
      stdio: 'inherit',
    });
    if (r.status !== 0) {
      console.error(`bench/${dir}/${script} failed (exit ${r.status ?? r.signal})`);
      process.exit(1);
    }
  }
}
