/**
 * The first-start mistakes are reported as what they are, in one line naming the
 * variable: a port already in use (before any database is opened), a database server
 * that cannot be reached.
 */
import { once } from 'node:events';
import { access } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, spawnService, useServiceEnvironment } from '../support/service-process.js';

const environment = useServiceEnvironment();

describe('the service process at start', () => {
  it('reports a port in use naming PORT, before it opens the database', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as { port: number };
    try {
      const { DATABASE_URL: _url, ...env } = environment.env();
      const service = spawnService('src/entry/main.ts', { ...env, HOST: '127.0.0.1', PORT: String(port) });
      expect(await service.exit).toBe(1);
      expect(service.output().trim()).toBe(
        `failed to start: PORT=${port} on 127.0.0.1 is already in use (another process listens there): stop it or set PORT to a free port`,
      );
      await expect(access(path.join(env.DATA_DIR!, 'pgdata'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      taken.close();
    }
  });

  it('reports a database server that cannot be reached naming DATABASE_URL and its host:port, not migrations', async () => {
    const closed = await freePort();
    const service = spawnService('src/entry/main.ts', {
      ...environment.env(),
      LOG_LEVEL: 'error',
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://nedlia:secret@127.0.0.1:${closed}/nedlia`,
    });
    expect(await service.exit).toBe(1);
    const output = service.output().trim();
    expect(output).toBe(`failed to start: cannot reach the database of DATABASE_URL at 127.0.0.1:${closed}: connect ECONNREFUSED 127.0.0.1:${closed}`);
    expect(output).not.toContain('secret');
  });
});
