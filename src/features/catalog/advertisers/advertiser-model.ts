/** An advertiser as the use cases return it (the repository's rows have this shape). */
export type AdvertiserStatus = 'active' | 'suspended';

export interface Advertiser {
  id: string;
  name: string;
  contact_email: string;
  billing_info: Record<string, unknown> | null;
  status: AdvertiserStatus;
  /** IANA time zone its campaigns' days count in (dates, daily budget cap, daily stats). */
  time_zone: string;
  created_at: Date;
  updated_at: Date;
  created_by: string | null;
  deleted_at: Date | null;
  version: number;
}
