/**
 * Every migration, in order. A migration is a file `NNNN-name.ts` exporting `up` and
 * `down`; add it here too (a static list keeps bundled and Lambda builds working).
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001-catalog.js';

export const migrations: Record<string, Migration> = {
  '0001-catalog': m0001,
};
