/**
 * `engines.node` of package.json and the locked dependencies agree: every locked
 * package accepts the oldest Node the project supports, so `npm ci` there prints no
 * EBADENGINE warning. (Understands the range forms the lockfile uses: `>=X`, `^X.Y.Z`, `X`, `X.*`, `*`,
 * joined by `||`; another form fails the test so that it is looked at.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

type Version = [number, number, number];

function version(text: string): Version {
  const [major = 0, minor = 0, patch = 0] = text.split('.').map(Number);
  return [major, minor, patch];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function admits(range: string, node: Version): boolean {
  return range.split('||').some((part) => {
    const alternative = part.trim().replace(/(\.[x*])+$/, '');
    if (alternative === '*' || alternative === '') return true;
    let match = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(alternative);
    if (match) return compare(node, version(match[1]!)) >= 0;
    match = /^\^(\d+(?:\.\d+){0,2})$/.exec(alternative);
    if (match) return node[0] === version(match[1]!)[0] && compare(node, version(match[1]!)) >= 0;
    match = /^(\d+)$/.exec(alternative);
    if (match) return node[0] === Number(match[1]);
    throw new Error(`engines range form not understood: "${range}"`);
  });
}

describe('engines', () => {
  it('every locked package accepts the oldest Node of package.json engines', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    const oldest = version(/^>=\s*([\d.]+)$/.exec(pkg.engines.node)![1]!);
    const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string } | string[] }>;
    };
    const refusing = Object.entries(lock.packages)
      .filter(([, entry]) => !Array.isArray(entry.engines) && typeof entry.engines?.node === 'string')
      .filter(([, entry]) => !admits((entry.engines as { node: string }).node, oldest))
      .map(([name, entry]) => `${name} wants node ${(entry.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
