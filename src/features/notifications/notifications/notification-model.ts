/** A notification as the use cases return it (pure). */
import type { NotificationType } from './notification-rules.js';

export interface Notification {
  id: string;
  advertiser_id: string;
  event_id: string;
  type: NotificationType;
  subject: string;
  message: string;
  data: Record<string, unknown>;
  created_at: Date;
  read_at: Date | null;
}
