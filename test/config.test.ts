import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, settingNames } from '../src/platform/config/config.js';
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

  it('listens on loopback only outside production unless HOST says otherwise', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'production' }).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('accepts CORS_ORIGINS only as exact origins', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    for (const entry of ['*', 'https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp://x.example', 'https://App.example.com', 'https://app.example.com:443']) {
      const error = configErrorOf({ CORS_ORIGINS: `http://localhost:5173,${entry}` });
      expect(error.variable, entry).toBe('CORS_ORIGINS');
      expect(error.message).toContain(JSON.stringify(entry));
      expect(error.message).not.toContain('\n');
    }
  });

  it('.env.example and the README document every variable the service reads, and no other', () => {
    const names = settingNames();
    expect(names).toEqual(expect.arrayContaining(['PORT', 'DATA_DIR', 'DATABASE_URL', 'EVENT_BUS', 'STORAGE', 'S3_BUCKET', 'FETCH_ALLOW_HOSTS']));
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const documented = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] as string);
    expect([...new Set(documented)].sort()).toEqual(names);
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const named = new Set([...readme.matchAll(/`([A-Z][A-Z0-9_]+)(=[^`]*)?`/g)].map((m) => m[1]));
    expect(names.filter((name) => !named.has(name))).toEqual([]);
  });
});
