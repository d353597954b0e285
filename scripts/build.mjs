/**
 * `npm run build`, and before `npm start`, `npm run api|worker|cli|migrate`: the service
 * as JavaScript in dist/service/, so that a production start loads built modules instead
 * of compiling TypeScript (tsx) on the way.
 *
 * - esbuild bundles src/entry/main.ts and src/entry/cli/main.ts with the packages they
 *   import (ESM, Node 20, dynamic imports as chunks of their own) into
 *   dist/service/entry/main.js and dist/service/entry/cli/main.js. Node then reads a
 *   few large files instead of resolving and reading many small ones: a third of
 *   the CPU that loading the same modules from node_modules takes (measured). Packages
 *   that read files beside their own code stay in node_modules (EXTERNAL). Minified
 *   (smaller sources for V8 to hold), names kept, with source maps beside.
 * - The build is skipped when nothing it reads changed: dist/service/inputs.sha256 holds
 *   a hash of the contents of src/, package.json, package-lock.json and this file. A check
 *   with nothing to do reads those files and exits, in a few tens of milliseconds.
 * - A build goes to a directory of its own and replaces dist/service by renames, under a
 *   lock (dist/service.lock): processes started together build once, and a running one
 *   never sees a half-written directory.
 *
 * Plain JavaScript, so that the check itself compiles nothing. It prints nothing on
 * stdout (`npm run -s cli -- token` prints only the token); `--force` builds anyway.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ESM_BANNER } from './esm-banner.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist/service');
const STAMP = path.join(OUT, 'inputs.sha256');
const LOCK = path.join(ROOT, 'dist/service.lock');
const ENTRIES = ['src/entry/main.ts', 'src/entry/cli/main.ts'];
/**
 * Loaded from node_modules, not bundled: PGlite (its WebAssembly and file-system image
 * beside its code), the OpenAPI packages (their package.json, the UI's static files),
 * pino (its transports are files of their own), and optional modules that packages
 * probe for inside a try (pg's native binding, `debug`'s supports-color).
 */
const EXTERNAL = ['@electric-sql/pglite', '@fastify/swagger', '@fastify/swagger-ui', 'pino', 'pg-native', 'supports-color'];


/** A lock older than this was left by a build that died: taken over. */
const STALE_LOCK_MS = 120_000;

async function filesUnder(dir) {
  const out = [];
  for (const item of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) out.push(...(await filesUnder(full)));
    else if (item.isFile()) out.push(full);
  }
  return out;
}

/** A hash of every input of the build: names and contents. */
async function inputsHash() {
  const files = [
    ...(await filesUnder(path.join(ROOT, 'src'))),
    path.join(ROOT, 'package.json'),
    path.join(ROOT, 'package-lock.json'),
    fileURLToPath(import.meta.url),
  ].sort();
  const hash = createHash('sha256');
  const contents = await Promise.all(files.map((file) => readFile(file)));
  files.forEach((file, i) => hash.update(`${path.relative(ROOT, file)}\0${contents[i].length}\0`).update(contents[i]));
  return hash.digest('hex');
}

async function builtHash() {
  try {
    return (await readFile(STAMP, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Holds dist/service.lock (a directory: made atomically) while `work` runs. */
async function withLock(work) {
  await mkdir(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const since = await stat(LOCK).then((s) => s.mtimeMs, () => Date.now());
      if (Date.now() - since > STALE_LOCK_MS) await rmdir(LOCK).catch(() => undefined);
      else if (Date.now() > deadline) throw new Error(`${LOCK} is held by another build for too long: remove it if no build runs`);
      else await sleep(100);
    }
  }
  try {
    return await work();
  } finally {
    await rmdir(LOCK).catch(() => undefined);
  }
}

async function build(hash) {
  const { build: esbuild } = await import('esbuild');
  const next = `${OUT}.next-${process.pid}`;
  const old = `${OUT}.old-${process.pid}`;
  await rm(next, { recursive: true, force: true });
  await esbuild({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outbase: 'src',
    outdir: next,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    banner: { js: ESM_BANNER },
    // Bundling renames colliding top-level names; classes and functions keep theirs.
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'none',
    minify: true,
    logLevel: 'error',
  });
  await writeFile(path.join(next, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  await writeFile(path.join(next, 'inputs.sha256'), `${hash}\n`);
  await rm(old, { recursive: true, force: true });
  await rename(OUT, old).catch((error) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(next, OUT);
  await rm(old, { recursive: true, force: true });
}

const force = process.argv.includes('--force');
const started = performance.now();
const hash = await inputsHash();
if (force || (await builtHash()) !== hash) {
  await withLock(async () => {
    // Another process may have built the same sources while this one waited.
    if (!force && (await builtHash()) === hash) return;
    await build(hash);
    process.stderr.write(`built dist/service from src/ in ${Math.round(performance.now() - started)} ms\n`);
  });
}
