/**
 * Video analysis (seed 004): `POST /v1/analyze` makes a video from a URL, the analyser
 * downloads it (guarded fetch, yt-dlp for pages), reads its duration, transcribes it
 * (an embedded subtitle track, else pocketsphinx) and stores the transcript; deleting a
 * video removes its stored objects. What other folders may use of it is exported here.
 */
import type { Consumer } from '../../platform/consumers/consumer.js';
import type { EventTypeSet } from '../../platform/events/registry.js';
import type { FeatureRoutes } from '../../platform/http/feature-routes.js';
import { analysisEventDefinitions } from './analysis-events.js';
import { analysisRoutes } from './analysis-routes.js';
import { videoAnalyser } from './analyser/analyser-consumer.js';
import { videoAssetsCleaner } from './analyser/video-assets-cleaner.js';

export const analysisHttp: FeatureRoutes = {
  name: 'analysis',
  routes: analysisRoutes,
  tags: [{ name: 'analysis', description: 'Videos analysed from a URL: download, duration, transcript' }],
};

export const analysisConsumers: readonly Consumer[] = [videoAnalyser, videoAssetsCleaner];

export const analysisEvents: EventTypeSet = { definitions: analysisEventDefinitions };

export { AnalysisEventTypes } from './analysis-events.js';
export { wordErrorRate } from './transcript-rules.js';
