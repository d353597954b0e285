/** A dead letter as the use cases return it (the repository's rows have this shape). */
export type DeadLetterStatus = 'pending' | 'replayed' | 'discarded';

export interface DeadLetter {
  id: string;
  consumer: string;
  event_id: string;
  event_type: string;
  subject: string;
  /** The CloudEvent as it was delivered. */
  event: unknown;
  error: string;
  attempts: number;
  first_attempt_at: Date;
  last_attempt_at: Date;
  status: DeadLetterStatus;
  resolved_at: Date | null;
  resolved_by: string | null;
  created_at: Date;
}
