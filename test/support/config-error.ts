import { expect } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config/config.js';

/** The ConfigError that `env` makes `loadConfig` throw; fails the test if it loads. */
export function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a configuration error');
}
