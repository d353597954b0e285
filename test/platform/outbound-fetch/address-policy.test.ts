import { describe, expect, it } from 'vitest';
import { refusedBy } from '../../../src/platform/outbound-fetch/address-policy.js';

describe('outbound address policy', () => {
  it('refuses every address that is not public unicast, by the rule that refuses it', () => {
    const table: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.9.9.9', 'loopback'],
      ['::1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.1.1', 'link-local'],
      ['fe80::1', 'link-local'],
      ['fd00::1', 'unique-local'],
      ['fc00::1', 'unique-local'],
      ['100.64.0.1', 'carrier-grade-nat'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
      ['169.254.169.254', 'cloud-metadata'],
      ['169.254.170.2', 'cloud-metadata'],
      ['100.100.100.200', 'cloud-metadata'],
      ['fd00:ec2::254', 'cloud-metadata'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:169.254.169.254', 'cloud-metadata'],
      ['::ffff:10.0.0.1', 'private'],
      ['64:ff9b::a00:1', 'private'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['2002:7f00:1::1', 'reserved'],
      ['192.0.2.1', 'reserved'],
      ['2001:db8::1', 'reserved'],
      ['not-an-ip', 'not-an-address'],
    ];
    for (const [address, rule] of table) expect(refusedBy(address), address).toBe(rule);
  });

  it('lets public unicast addresses through', () => {
    for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      expect(refusedBy(address), address).toBeUndefined();
    }
  });
});
