/** An ingest key as the use cases return it (never its secret, except once at creation). */
export interface IngestKey {
  id: string;
  creatorId: string;
  name: string | null;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface CreatedIngestKey extends IngestKey {
  /** The key itself: shown this once, stored only as a hash. */
  key: string;
}

/** Who a valid, unrevoked key admits events for. */
export interface KeyHolder {
  keyId: string;
  creatorId: string;
}
