/**
 * The container recipe of `npm run package:image` (no Docker daemon here: it is checked
 * as text, and its health probe is run against a server of the test's own).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCKERIGNORE, HEALTH_PROBE, writeImageRecipe } from '../../scripts/packaging/package-image.js';
import { freePort } from '../support/processes.js';

/** Runs the probe as the image does (asynchronously: the server answering it is in this process). */
async function probe(port: number): Promise<number | null> {
  const child = spawn(process.execPath, ['-e', HEALTH_PROBE], { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('package:image', () => {
  it('writes a Dockerfile that installs production dependencies only, runs as a non-root user and checks health', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-image-'));
    try {
      const text = await readFile(await writeImageRecipe(dir), 'utf8');
      const lines = text.split('\n');
      expect(lines[lines.findIndex((l) => l.startsWith('FROM '))]).toMatch(/^FROM node:20-bookworm-slim$/);
      expect(text).toContain('RUN npm ci --omit=dev');
      const user = lines.filter((l) => l.startsWith('USER '));
      expect(user).toEqual(['USER node']);
      // Everything after USER runs unprivileged: no RUN comes after it.
      expect(lines.slice(lines.indexOf('USER node')).some((l) => l.startsWith('RUN '))).toBe(false);
      expect(text).toMatch(/HEALTHCHECK [^\n]*\\\n\s+CMD \["node", "-e", /);
      expect(text).toContain('ENTRYPOINT ["node", "--import", "tsx", "src/entry/main.ts"]');
      expect(await readFile(path.join(dir, 'Dockerfile.dockerignore'), 'utf8')).toBe(DOCKERIGNORE);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('its health probe passes on 200 from /health/live and fails otherwise', async () => {
    let status = 200;
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.statusCode = status;
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      expect(await probe(port)).toBe(0);
      status = 503;
      expect(await probe(port)).toBe(1);
      expect(seen).toEqual(['/health/live', '/health/live']);
    } finally {
      server.close();
    }
    expect(await probe(await freePort())).toBe(1);
  });
});
