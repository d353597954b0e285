/** Why an outbound fetch was refused or stopped; `code` is stable, the message names the rule and the address. */
import type { AddressRule } from './address-policy.js';

export class OutboundFetchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class AddressRefusedError extends OutboundFetchError {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly rule: AddressRule,
  ) {
    super('FETCH.ADDRESS_REFUSED', `refused to connect to ${host}: ${address} is ${rule.replaceAll('-', ' ')} (add the host to FETCH_ALLOW_HOSTS to allow it)`);
  }
}

export class SchemeRefusedError extends OutboundFetchError {
  constructor(
    readonly url: string,
    readonly allowed: readonly string[],
  ) {
    super('FETCH.SCHEME_REFUSED', `refused ${url}: only ${allowed.join(' and ')} URLs are fetched`);
  }
}

export class TooManyRedirectsError extends OutboundFetchError {
  constructor(
    readonly url: string,
    readonly maxRedirects: number,
  ) {
    super('FETCH.TOO_MANY_REDIRECTS', `stopped at ${url}: more than ${maxRedirects} redirects`);
  }
}

export class ResponseTooLargeError extends OutboundFetchError {
  constructor(
    readonly url: string,
    readonly maxBytes: number,
  ) {
    super('FETCH.RESPONSE_TOO_LARGE', `response of ${url} is larger than ${maxBytes} bytes`);
  }
}

export class FetchTimeoutError extends OutboundFetchError {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super('FETCH.TIMEOUT', `fetch of ${url} did not finish within ${timeoutMs} ms`);
  }
}
