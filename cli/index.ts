// cli/: the `berth` command. Depends only on crds/ and the HTTP API.
export { type CliConfig, configPath, loadConfig, updateConfig } from './config.ts';
export { buildCli } from './program.ts';
