/** Product: the JSON shapes and how a row becomes one. */
import { Type } from 'typebox';
import type { Product as ProductModel } from './product-model.js';
import { Nullable, Timestamp, Uuid } from '../shared/catalog-http.js';

const fields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Nullable(Type.String({ maxLength: 10_000 })),
  category: Nullable(Type.String({ maxLength: 100 })),
  assets: Type.Array(Type.Unknown(), { maxItems: 100, description: 'Images, logos, links: free-form entries' }),
};

export const NewProduct = Type.Object(
  {
    advertiser_id: Type.Optional(Type.String({ format: 'uuid', description: "Required for admins; an advertiser's own by default" })),
    name: fields.name,
    description: Type.Optional(fields.description),
    category: Type.Optional(fields.category),
    assets: Type.Optional(fields.assets),
  },
  { additionalProperties: false },
);
export const ProductPatchBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });

export const Product = Type.Object(
  { id: Uuid, advertiser_id: Uuid, ...fields, created_at: Timestamp, updated_at: Timestamp, version: Type.Integer() },
  { additionalProperties: false, description: 'A product an advertiser wants placed in videos' },
);

export function productJson(row: ProductModel) {
  return {
    id: row.id,
    advertiser_id: row.advertiser_id,
    name: row.name,
    description: row.description,
    category: row.category,
    assets: row.assets ?? [],
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    version: row.version,
  };
}
