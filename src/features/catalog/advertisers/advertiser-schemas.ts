/** Advertiser: the JSON shapes and how a row becomes one. */
import { Type } from 'typebox';
import type { Advertiser as AdvertiserModel } from './advertiser-model.js';
import { Timestamp, Uuid } from '../shared/catalog-http.js';
import { EXPECTED } from '../../../platform/http/validation.js';

const Status = Type.Enum(['active', 'suspended']);
const fields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  contact_email: Type.String({ format: 'email', maxLength: 255, examples: ['ads@acme.test'], [EXPECTED]: 'an email address such as "ads@acme.test"' }),
  status: Status,
  time_zone: Type.String({
    minLength: 1, maxLength: 64, examples: ['Europe/Paris'], [EXPECTED]: 'an IANA time zone name such as "Europe/Paris"',
    description: 'IANA time zone in which the advertiser\'s campaign days count: the campaign dates, the daily budget cap (`rules.daily_budget`) and the daily stats (default "UTC")',
  }),
};

export const AdvertiserStatusQuery = Type.Optional(Status);

export const NewAdvertiser = Type.Object(
  { name: fields.name, contact_email: fields.contact_email, status: Type.Optional(Status), time_zone: Type.Optional(fields.time_zone) },
  { additionalProperties: false },
);
export const AdvertiserPatchBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });

export const Advertiser = Type.Object(
  { id: Uuid, ...fields, created_at: Timestamp, updated_at: Timestamp, version: Type.Integer() },
  { additionalProperties: false, description: 'An advertiser (a company that runs campaigns)' },
);

export function advertiserJson(row: AdvertiserModel) {
  return {
    id: row.id,
    name: row.name,
    contact_email: row.contact_email,
    status: row.status,
    time_zone: row.time_zone,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    version: row.version,
  };
}
