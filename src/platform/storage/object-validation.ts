/**
 * What every adapter accepts. Keys: the same on every adapter, so that a key valid on S3 is valid on disk too:
 * segments of letters, digits, `.`, `_`, `-`, `=`, `+`, `@` separated by single `/`,
 * none starting with `.` (no `.`, `..`, hidden or temporary names), no leading or
 * trailing `/`, at most 512 characters.
 */
import { InvalidObjectKeyError } from './storage-errors.js';

const SEGMENT = /^[A-Za-z0-9_=+@-][A-Za-z0-9._=+@-]*$/;
const MAX_LENGTH = 512;

function check(key: string, kind: 'key' | 'prefix'): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidObjectKeyError(String(key), 'empty');
  if (key.length > MAX_LENGTH) throw new InvalidObjectKeyError(key, `longer than ${MAX_LENGTH} characters`);
  if (key.startsWith('/')) throw new InvalidObjectKeyError(key, 'absolute (starts with /)');
  const body = kind === 'prefix' ? key.slice(0, -1) : key;
  if (kind === 'prefix' && !key.endsWith('/')) throw new InvalidObjectKeyError(key, 'a prefix ends with /');
  for (const segment of body.split('/')) {
    if (segment === '..' || segment === '.') throw new InvalidObjectKeyError(key, `has a "${segment}" segment`);
    if (segment === '') throw new InvalidObjectKeyError(key, 'has an empty segment (// or a trailing /)');
    if (!SEGMENT.test(segment)) {
      throw new InvalidObjectKeyError(key, `segment ${JSON.stringify(segment)} must be letters, digits, . _ - = + @ and not start with .`);
    }
  }
}

export function assertObjectKey(key: string): void {
  check(key, 'key');
}

export function assertObjectPrefix(prefix: string): void {
  check(prefix, 'prefix');
}

/** A media type such as `video/mp4` or `text/plain; charset=utf-8`: printable ASCII, at most 255 characters. */
export function assertContentType(contentType: string): void {
  if (typeof contentType !== 'string' || !/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(contentType) || !contentType.includes('/')) {
    throw new TypeError(`content type ${JSON.stringify(contentType)} refused: expected a media type such as "video/mp4"`);
  }
}
