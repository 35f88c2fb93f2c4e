// settings/: how every component reads its environment. A leaf: imports zod and
// node: only, and every folder may import it (ecs-local/ and sidecars/ as they
// would a library). See README.md.
export {
  fillSettingsBlocks,
  type SettingRow,
  settingRows,
  settingsBlockNames,
  settingsTable,
} from './docs.ts';
export { commaList, durationMs, flag, integer } from './fields.ts';
export {
  ConfigError,
  type Env,
  isSecret,
  isSecretName,
  type LoadOptions,
  loadSettings,
} from './load.ts';
export { type SettingMeta, setting, settingMeta } from './meta.ts';
