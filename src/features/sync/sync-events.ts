/** Plugin sync's event types (moved here from the catalog's): a sync was asked for, and its snapshot is ready. */
import { Type } from 'typebox';
import type { EventDefinition } from '../../platform/events/registry.js';

export const SyncEventTypes = {
  pluginSyncRequested: 'com.nedlia.plugin.sync_requested',
  pluginSyncCompleted: 'com.nedlia.plugin.sync_completed',
} as const;

const Uuid = Type.String({ format: 'uuid' });

export const syncEventDefinitions: EventDefinition[] = [
  {
    type: SyncEventTypes.pluginSyncRequested, version: 1, producer: 'api', description: 'The editor plugin asked for a sync (the subject is the sync request)',
    schema: Type.Object({ requested_by: Type.String(), cursor: Type.Optional(Type.String()) }),
  },
  {
    type: SyncEventTypes.pluginSyncCompleted, version: 1, producer: 'sync-worker',
    description: 'The snapshot a sync request asked for is in object storage: fetch it at snapshot_url, then follow the feed from cursor',
    schema: Type.Object({
      sync_request_id: Uuid,
      requested_by: Type.String(),
      snapshot_url: Type.String({ description: 'Where the plugin fetches the snapshot (GET, with its token)' }),
      object_key: Type.String({ description: 'The snapshot object in storage' }),
      cursor: Type.String({ description: 'GET /v1/sync?cursor= from here returns every change after the snapshot' }),
      items_count: Type.Integer({ minimum: 0 }),
    }),
  },
];
