/**
 * The DNS lookup the fetch's sockets connect with: it resolves the host, checks every
 * address (all of them, so that a name answering one public and one private address is
 * refused), and hands exactly those addresses to the socket. The check and the connect
 * use one answer, so a name cannot resolve to a public address for the check and to a
 * private one for the connect.
 */
import dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { refusedBy } from './address-policy.js';
import { AddressRefusedError } from './fetch-errors.js';

export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: Resolve = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/** Throws `AddressRefusedError` for the first refused address. */
export function checkAddresses(host: string, addresses: readonly LookupAddress[]): void {
  if (addresses.length === 0) throw new AddressRefusedError(host, '(no address)', 'not-an-address');
  for (const { address } of addresses) {
    const rule = refusedBy(address);
    if (rule) throw new AddressRefusedError(host, address, rule);
  }
}

export function guardedLookup(resolve: Resolve, isAllowed: (host: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    const host = normalizeHost(hostname);
    resolve(host)
      .then((found) => {
        const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
        if (!isAllowed(host)) checkAddresses(host, found);
        if (wanted.length === 0) throw Object.assign(new Error(`${host} has no IPv${options.family} address`), { code: 'ENOTFOUND' });
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      })
      .catch((error: NodeJS.ErrnoException) => callback(error, '', 0));
  };
}
