// The composition root: the user-facing CLI from cli/, plus the daemons
// (`up`, `api`, `ecs-local`, ...) that wire the other folders together.
// Only bin/ may import every folder.
import { buildCli } from '../cli/index.ts';
import { registerDaemons } from './daemons.ts';

const program = buildCli();
registerDaemons(program);
await program.parseAsync(process.argv);
