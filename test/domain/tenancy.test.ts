import { describe, expect, it } from 'vitest';
import type { Actor } from '../../src/platform/auth/actor.js';
import { mayManageAdvertiserRows, mayManageVideo, maySeePlacement, productVisibility } from '../../src/features/catalog/shared/tenancy-rules.js';

const admin: Actor = { userId: 'root', roles: ['admin'] };
const acme: Actor = { userId: 'ann', roles: ['advertiser'], advertiserId: 'acme' };
const unscoped: Actor = { userId: 'ned', roles: ['advertiser'] };
const creator: Actor = { userId: 'cara', roles: ['creator'] };
const stranger: Actor = { userId: 'sam', roles: [] };

describe('tenancy decisions', () => {
  describe("an advertiser's rows (the advertiser, its campaigns and products)", () => {
    it.each([
      ['an admin', admin, true],
      ['the advertiser acting for it', acme, true],
      ['an advertiser without an advertiser claim', unscoped, false],
      ['a creator', creator, false],
      ['a caller without a role', stranger, false],
    ])('given %s, when it manages acme, then the answer is %s', (_, actor, allowed) => {
      expect(mayManageAdvertiserRows(actor, 'acme')).toBe(allowed);
    });
    it('given the advertiser of acme, when it manages another advertiser, then it may not', () => {
      expect(mayManageAdvertiserRows(acme, 'globex')).toBe(false);
    });
  });

  describe('a video and its placements', () => {
    it.each([
      ['an admin', admin, 'cara', true],
      ['its owner', creator, 'cara', true],
      ['another creator', { ...creator, userId: 'carl' }, 'cara', false],
      ['an advertiser', acme, 'cara', false],
      ['its owner, once the video has none', creator, null, false],
      ['a caller named like the owner but without the creator role', { userId: 'cara', roles: [] }, 'cara', false],
    ] as const)('given %s, when it manages the video, then the answer is %s', (_, actor, owner, allowed) => {
      expect(mayManageVideo(actor as Actor, owner)).toBe(allowed);
    });
  });

  describe('seeing a placement', () => {
    const owners = { videoOwnerId: 'cara', productAdvertiserId: 'acme' };
    it.each([
      ['the video owner', creator, true],
      ["the advertiser of the placement's product", acme, true],
      ['another advertiser', { ...acme, advertiserId: 'globex' }, false],
      ['an advertiser without a claim', unscoped, false],
      ['another creator', { ...creator, userId: 'carl' }, false],
    ])('given %s, when it looks, then the answer is %s', (_, actor, visible) => {
      expect(maySeePlacement(actor, owners)).toBe(visible);
    });
  });

  describe('seeing a product', () => {
    it.each([
      ['an admin', admin, 'visible'],
      ['its advertiser', acme, 'visible'],
      ['a creator', creator, 'visible while the advertiser is active'],
      ['another advertiser', { ...acme, advertiserId: 'globex' }, 'hidden'],
      ['a caller without a role', stranger, 'hidden'],
    ] as const)('given %s, when it looks, then the product is %s', (_, actor, visibility) => {
      expect(productVisibility(actor as Actor, 'acme')).toBe(visibility);
    });
  });
});
