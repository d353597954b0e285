/**
 * The embedded service (`npm start`, PGlite under DATA_DIR) on a tiny filesystem of
 * its own (tmpfs) that the test fills up: writes are refused with a 503 problem+json
 * saying the disk is full, the process stays up and keeps serving reads, writes work
 * again once space is freed, and nothing acknowledged is lost, also across a restart.
 * Needs to mount a tmpfs (root); skipped, saying why, where that is not permitted.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIssuer, post, startAllInOne, stop, until } from './support.js';

let mountPoint = '';
let skipReason: string | undefined;

beforeAll(async () => {
  mountPoint = await mkdtemp(path.join(os.tmpdir(), 'nedlia-tiny-'));
  try {
    // A fresh PGlite data directory takes about 40 MB.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    skipReason = `cannot mount a tmpfs here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()})`;
    process.stdout.write(`embedded full-disk test skipped: ${skipReason}\n`);
  }
});

afterAll(async () => {
  if (!skipReason && mountPoint) execFileSync('umount', ['-l', mountPoint]);
  if (mountPoint) await rmdir(mountPoint).catch(() => undefined);
});

const filler = () => path.join(mountPoint, 'filler');

/**
 * Fills the file system but a few KiB. The running service writes too (its WAL), so the
 * space read a moment ago may be gone when the file is allocated: then read it again and
 * leave a little more.
 */
function fillDisk(): void {
  for (let attempt = 1; ; attempt++) {
    const free = Number(execFileSync('df', ['--output=avail', '-B1', mountPoint]).toString().split('\n')[1]);
    try {
      execFileSync('fallocate', ['-l', String(Math.max(4096, free - 4096 * attempt ** 2)), filler()], { stdio: 'pipe' });
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

async function status(url: string, token: string, id: string): Promise<number> {
  return (await fetch(`${url}/v1/placements/${id}`, { headers: { authorization: `Bearer ${token}` } })).status;
}

describe('embedded mode with a full disk', () => {
  it('refuses writes with a clear 503, keeps the process and every acknowledged write, and recovers when space returns', async (context) => {
    if (skipReason) return context.skip();
    const issuer = await fileIssuer();
    const env = { ...issuer.env, DATA_DIR: path.join(mountPoint, 'data'), RATE_LIMIT_MAX: '0' };
    const token = issuer.adminToken;
    let service: Awaited<ReturnType<typeof startAllInOne>> | undefined;
    try {
      service = await startAllInOne(env);
      const url = service.url;
      const advertiser = await post(`${url}/v1/advertisers`, token, { name: 'Acme', contact_email: 'ads@acme.test' });
      const product = await post(`${url}/v1/products`, token, { advertiser_id: advertiser.id, name: 'Cola' });
      const video = await post(`${url}/v1/videos`, token, { title: 'Trailer', duration: 60, status: 'ready' });
      expect([advertiser.status, product.status, video.status]).toEqual([201, 201, 201]);
      const placement = { video_id: video.id, product_id: product.id, start_time: 1, end_time: 2, description: 'x'.repeat(1500) };
      const acknowledged: string[] = [];
      const create = async () => {
        const sample = await post(`${url}/v1/placements`, token, placement);
        if (sample.status === 201) acknowledged.push(sample.id as string);
        return sample;
      };
      for (let i = 0; i < 5; i++) expect((await create()).status).toBe(201);

      fillDisk();
      // Writes that find no page with room left fail; a few may still fit in pages in hand.
      const refusals = [];
      for (let i = 0; i < 400 && refusals.length < 5; i++) {
        const sample = await create();
        if (sample.status !== 201) refusals.push(sample);
      }
      expect(refusals.length).toBe(5);
      for (const r of refusals) {
        expect(r).toMatchObject({ status: 503, code: 'DEPENDENCY.UNAVAILABLE', contentType: expect.stringContaining('application/problem+json') });
      }
      const refused = await fetch(`${url}/v1/placements`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(placement),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect(((await refused.json()) as { detail: string }).detail).toContain('no disk space');
      expect(service.child.exitCode).toBeNull();
      expect((await fetch(`${url}/health/live`)).status).toBe(200);
      expect(await status(url, token, acknowledged[0] as string)).toBe(200);

      await rm(filler());
      const back = await until(async () => (await create()).status === 201, 10_000, 'a write accepted after space returned');
      process.stdout.write(`disk full: ${acknowledged.length} writes acknowledged, ${refusals.length} refused (${refusals.map((r) => r.ms.toFixed(0)).join(', ')} ms); first write accepted ${back.toFixed(0)} ms after space returned\n`);

      expect(await stop(service)).toBe(0);
      service = await startAllInOne(env);
      for (const id of acknowledged) expect(await status(service.url, token, id)).toBe(200);
    } finally {
      await stop(service);
      await issuer.cleanup();
    }
  }, 180_000);
});
