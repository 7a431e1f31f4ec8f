/** Server settings: config/default.yaml, a config file, GITFUNC_* variables and CLI flags. */
export { defaultSettingsFile, loadSettings, packageRoot, type LoadSettingsOptions } from './load-settings.js';
export { redactedSettings, redactUrl, type CorsSettings, type LogLevel, type RepoSettings, type Settings } from './settings.js';
export { ENV_SETTINGS, FLAG_SETTINGS } from './setting-sources.js';
export { settingsSchema } from './validate-settings.js';
export { formatSettingsHelp, settingsHelp, type SettingHelp } from './settings-help.js';
