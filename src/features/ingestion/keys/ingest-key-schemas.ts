/** Ingest keys on the wire. */
import { Type } from 'typebox';
import type { CreatedIngestKey, IngestKey } from './ingest-key-model.js';

export const NewIngestKey = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'What the key is for (a site, an app)' })),
    creator_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Admins only: the creator the key is for (a creator makes keys for itself)' })),
  },
  { additionalProperties: false },
);

const fields = {
  id: Type.String({ format: 'uuid' }),
  creator_id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
  created_at: Type.String({ format: 'date-time' }),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
};

export const IngestKeyJson = Type.Object(fields, { additionalProperties: false });
export const CreatedIngestKeyJson = Type.Object(
  { ...fields, key: Type.String({ description: 'The key: shown this once (only its hash is stored). Put it in the SDK as `x-nedlia-key`.' }) },
  { additionalProperties: false },
);

export const keyJson = (k: IngestKey) => ({
  id: k.id, creator_id: k.creatorId, name: k.name, prefix: k.prefix, created_at: k.createdAt.toISOString(), revoked_at: k.revokedAt ? new Date(k.revokedAt).toISOString() : null,
});
export const createdKeyJson = (k: CreatedIngestKey) => ({ ...keyJson(k), key: k.key });
