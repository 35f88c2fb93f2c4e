// cli/: the `berth` command. Depends only on crds/, settings/ and the HTTP API.
export {
  type CliConfig,
  cliEnvSchema,
  configPath,
  loadConfig,
  updateConfig,
} from './config.ts';
export { buildCli } from './program.ts';
