/** A product as the use cases return it (the repository's rows have this shape). */
export interface Product {
  id: string;
  advertiser_id: string;
  name: string;
  description: string | null;
  category: string | null;
  assets: unknown[] | null;
  created_at: Date;
  updated_at: Date;
  created_by: string | null;
  deleted_at: Date | null;
  version: number;
}
