/** A configuration that cannot start relais; its message names the variable at fault. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
