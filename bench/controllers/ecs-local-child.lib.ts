// ecs-local in its own process for the controller benchmark, so the benchmark
// process's CPU figures are the controller's alone. Options come as JSON in
// argv[2]; it prints `URL <url>` and runs until SIGTERM.
import { startEcsLocal } from '../../ecs-local/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}');
const ecsLocal = await startEcsLocal({ port: 0, ...options });
process.stdout.write(`URL ${ecsLocal.url}\n`);
process.once('SIGTERM', () => {
  void ecsLocal.close(1000).then(() => process.exit(0));
});
