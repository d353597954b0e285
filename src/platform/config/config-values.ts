/**
 * Reading one environment variable as a value of its kind (a choice, an integer in a
 * range, a flag, a URL, a list), or a `ConfigError` naming the variable and what it
 * expects. config.ts declares each setting with these.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    value: string | undefined,
  ) {
    super(`${variable}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(name, `one of ${values.join(', ')}`, raw);
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `an integer from ${min} to ${max}`, raw);
  }
  return value;
}

export function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(name, '1 or 0', raw);
}

export function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = new URL(raw);
    if (protocols.includes(parsed.protocol)) return raw;
  } catch {
    // reported below
  }
  throw new ConfigError(name, `a URL (${protocols.join(' or ')})`, raw);
}

export function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
