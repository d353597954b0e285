import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS, loadConfig } from '../src/config.js';
import { configErrorOf } from './support/config-error.js';

describe('configuration', () => {
  it('defaults to the embedded service', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, databaseUrl: undefined, eventBus: 'postgres', storage: 'local', nodeEnv: 'development', migrateOnStart: true, corsOrigins: [] });
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.auth.devIssuer).toBe(false);
  });

  it('names the variable and what it expects in one line', () => {
    const port = configErrorOf({ PORT: 'eighty' });
    expect(port.variable).toBe('PORT');
    expect(port.message).toBe('PORT: expected an integer from 0 to 65535, got "eighty"');
    expect(configErrorOf({ PORT: '70000' }).variable).toBe('PORT');
    expect(configErrorOf({ EVENT_BUS: 'kafka' }).message).toBe('EVENT_BUS: expected one of postgres, nats, redis, rabbitmq, sqs, got "kafka"');
    expect(configErrorOf({ DATABASE_URL: 'mysql://db' }).variable).toBe('DATABASE_URL');
    expect(configErrorOf({ NODE_ENV: 'prod' }).variable).toBe('NODE_ENV');
    for (const message of [port.message]) expect(message).not.toContain('\n');
  });

  it('never migrates a production PostgreSQL implicitly, and refuses the development issuer there', () => {
    const url = 'postgres://db.example/nedlia';
    expect(loadConfig({ DATABASE_URL: url, NODE_ENV: 'production' }).migrateOnStart).toBe(false);
    expect(loadConfig({ DATABASE_URL: url }).migrateOnStart).toBe(true);
    expect(loadConfig({ DATABASE_URL: url, NODE_ENV: 'production', MIGRATE_ON_START: '1' }).migrateOnStart).toBe(true);
    expect(configErrorOf({ NODE_ENV: 'production', AUTH_DEV_ISSUER: '1' }).variable).toBe('AUTH_DEV_ISSUER');
  });

  it('.env.example documents every variable the service reads', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    for (const name of SETTINGS) expect(documented, name).toContain(name);
  });
});
