/**
 * The catalog: advertisers, campaigns, products, videos and placements (seed 000's
 * resources), one folder each with its rules, use cases, repository, routes and
 * schemas. What other folders may use of it is exported here and only here.
 */
import type { Consumer } from '../../platform/consumers/consumer.js';
import type { EventTypeSet } from '../../platform/events/registry.js';
import type { FeatureRoutes } from '../../platform/http/feature-routes.js';
import { catalogConstraints } from './catalog-constraints.js';
import { catalogEventDefinitions } from './catalog-events.js';
import { catalogRoutes } from './catalog-routes.js';
import { placementDetailsProjector } from './placements/placement-details-projector.js';
import { placementUpdatedV1ToV2 } from './placements/placement-upcasters.js';

export const catalogHttp: FeatureRoutes = {
  name: 'catalog',
  routes: catalogRoutes,
  tags: [
    { name: 'advertisers', description: 'Companies that run campaigns' },
    { name: 'campaigns', description: "An advertiser's budgets, pricing and dates for its products" },
    { name: 'products', description: 'What advertisers want placed in videos' },
    { name: 'videos', description: "Creators' videos" },
    { name: 'placements', description: 'A product shown in a video over a time range, at a position on screen' },
  ],
  constraints: catalogConstraints,
};

export const catalogConsumers: readonly Consumer[] = [placementDetailsProjector];

export const catalogEvents: EventTypeSet = { definitions: catalogEventDefinitions, upcasters: [placementUpdatedV1ToV2] };

export { EventTypes, type EventType } from './catalog-events.js';
export { createAdvertiser, type NewAdvertiserInput } from './advertisers/advertiser-use-cases.js';
export { createCampaign, getCampaign, type NewCampaignInput } from './campaigns/campaign-use-cases.js';
export { createPlacement, type NewPlacementInput } from './placements/placement-use-cases.js';
export { createProduct, type NewProductInput } from './products/product-use-cases.js';
export { createVideo, type NewVideoInput } from './videos/video-use-cases.js';
export { getVideo, canSeeVideo } from './videos/video-use-cases.js';
export { upsertUser } from './videos/user-repository.js';
export { videoJson, Video as VideoSchema } from './videos/video-schemas.js';
export type { Video } from './videos/video-model.js';
export { ANY_VERSION, transact, type ExpectedVersion } from './shared/transact.js';
export { forbidden, isAdmin, isCreator, type CatalogCommand, type CatalogDeps } from './shared/access.js';
export {
  Conventions, IdParams, IdempotencyHeaders, IfMatchHeaders, ListOf, Nullable, PageQuery, Timestamp, Uuid,
  commandOf, expectedVersion, problems, rejectNulCharacters, setEtag,
} from './shared/catalog-http.js';
