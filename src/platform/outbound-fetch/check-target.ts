/**
 * The same checks as the guarded fetch, for a URL another program will fetch (yt-dlp):
 * the scheme, and every address the host resolves to unless the host is allowed by
 * name. The program resolves the host again when it connects, so this narrows but does
 * not close the rebinding window; what it downloads is fetched through the guarded
 * fetch itself.
 */
import net from 'node:net';
import { SchemeRefusedError } from './fetch-errors.js';
import { checkAddresses, normalizeHost, systemResolve, type Resolve } from './guarded-lookup.js';

export async function checkTarget(target: string, options: { allowHosts: readonly string[]; httpsOnly: boolean; resolve?: Resolve }): Promise<URL> {
  const protocols = options.httpsOnly ? ['https:'] : ['https:', 'http:'];
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new SchemeRefusedError(String(target), protocols);
  }
  if (!protocols.includes(url.protocol)) throw new SchemeRefusedError(url.href, protocols);
  const host = normalizeHost(url.hostname);
  if (options.allowHosts.map(normalizeHost).includes(host)) return url;
  const family = net.isIP(host);
  checkAddresses(host, family !== 0 ? [{ address: host, family }] : await (options.resolve ?? systemResolve)(host));
  return url;
}
