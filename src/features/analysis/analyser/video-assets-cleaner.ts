/**
 * `video.deleted` → the video's objects go from storage: everything under
 * `videos/<id>/` (its media, its transcript as JSON and WebVTT, and the placement files
 * kept there). Removing is idempotent, so it runs in `prepare`, outside the transaction.
 */
import type { Consumer } from '../../../platform/consumers/consumer.js';
import { EventTypes } from '../../catalog/index.js';
import { analyserDeps, videoPrefix } from './analyser-deps.js';

export const videoAssetsCleaner: Consumer = {
  name: 'video-assets-cleaner',
  types: [EventTypes.videoDeleted],
  async prepare(event, { logger }) {
    const videoId = (event.data as { video_id: string }).video_id;
    const removed = await (await analyserDeps()).storage.deletePrefix(videoPrefix(videoId));
    logger.info({ video_id: videoId, removed }, 'video assets removed from storage');
    return removed;
  },
  async handle() {},
};
