/**
 * Which addresses an outbound fetch may connect to: public unicast only. Everything
 * else is refused by name (the rule), IPv4-mapped and NAT64 IPv6 addresses are judged
 * by the IPv4 address inside them, and the cloud metadata endpoints are named as such.
 */
import ipaddr from 'ipaddr.js';

export type AddressRule =
  | 'cloud-metadata'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'carrier-grade-nat'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved'
  | 'not-an-address';

/** AWS, GCP, Azure, OpenStack (169.254.169.254), ECS task (169.254.170.2), Alibaba, Oracle, AWS over IPv6. */
const CLOUD_METADATA = new Set(['169.254.169.254', '169.254.170.2', '169.254.169.123', '100.100.100.200', '192.0.0.192', 'fd00:ec2::254']);

const RULES: Record<string, AddressRule> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  carrierGradeNat: 'carrier-grade-nat',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
};

/** The rule that refuses `address`, or undefined for a public unicast address. */
export function refusedBy(address: string): AddressRule | undefined {
  if (!ipaddr.isValid(address)) return 'not-an-address';
  let parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv6' && parsed.range() === 'rfc6052') {
    // 64:ff9b::/96 reaches the IPv4 address in its last 32 bits through NAT64.
    const bytes = parsed.toByteArray().slice(12);
    parsed = ipaddr.fromByteArray(bytes);
  }
  if (CLOUD_METADATA.has(parsed.toString())) return 'cloud-metadata';
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  return RULES[range] ?? 'reserved';
}
