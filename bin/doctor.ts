// `berth doctor`: with AWS settings (or BERTH_ECS_ENDPOINT) it reads the ECS
// driver's configuration from the environment and runs the preflight; with none,
// it checks the local setup `make run` runs (doctor-local.ts). Each check prints
// with what to do about failures; exit status 1 when anything is wrong, so
// scripts can gate on it.
import { Registry } from 'prom-client';
import {
  ConfigError,
  createEcsDriver,
  type EcsDriverConfig,
  loadEcsConfig,
} from '../controllers/index.ts';
import { type Finding, isLocalSetup, localFindings } from './doctor-local.ts';
import { doctorToolPorts } from './doctor-tool-ports.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

function report(findings: Finding[]): void {
  for (const f of findings) {
    const mark = f.ok ? '✓' : f.severity === 'warning' ? '!' : '✗';
    out(`${mark} ${f.check}: ${f.message}`);
    if (!f.ok && f.fix) out(`    fix: ${f.fix}`);
  }
  // A warning tells; only errors fail the doctor.
  const failed = findings.filter((f) => !f.ok && f.severity !== 'warning').length;
  out(failed === 0 ? 'All checks passed.' : `${failed} check${failed === 1 ? '' : 's'} failed.`);
  if (failed > 0) process.exitCode = 1;
}

export async function runDoctor(
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  if (isLocalSetup(env)) {
    out(
      'berth doctor: no AWS settings, so checking the local setup (make run); set BERTH_ECS_REGION (or AWS_REGION) to check AWS',
    );
    report(await localFindings(env));
    return;
  }
  let config: EcsDriverConfig;
  try {
    config = loadEcsConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out('✗ configuration');
    for (const issue of err.issues) out(`    ${issue}`);
    out(
      '    fix: correct these environment variables (see controllers/README.md) and run berth doctor again',
    );
    process.exitCode = 1;
    return;
  }
  const target = config.endpoint ? `ecs-local at ${config.endpoint}` : `AWS ${config.region}`;
  out(`berth doctor: checking ${target}, cluster "${config.cluster}"`);
  // Its own registry: the doctor's calls are not the daemon's metrics.
  const driver = createEcsDriver({ config, registry: new Registry() });
  try {
    report(await driver.preflight(await doctorToolPorts(env)));
  } finally {
    driver.close();
  }
}
