/** The outbound fetch of a process: `FETCH_ALLOW_HOSTS` names the hosts allowed whatever they resolve to; production fetches `https` only. */
import type { Config } from '../config/config.js';
import { createOutboundFetch } from './guarded-fetch.js';
import type { OutboundFetch, OutboundFetchOptions } from './guarded-fetch.js';

export function outboundFetchFromConfig(
  config: Pick<Config, 'fetchAllowHosts' | 'nodeEnv'>,
  limits: Pick<OutboundFetchOptions, 'timeoutMs' | 'maxResponseBytes' | 'maxRedirects'> = {},
): OutboundFetch {
  return createOutboundFetch({ ...limits, allowHosts: config.fetchAllowHosts, httpsOnly: config.nodeEnv === 'production' });
}
