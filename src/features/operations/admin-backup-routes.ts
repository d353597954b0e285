/**
 * `POST /v1/admin/backups`: a consistent backup of the embedded database, taken by the
 * running service into `DATA_DIR/backups/` (platform/backup/data-dir-backup.ts).
 * `npm run cli -- backup` calls it when a running service holds the data directory.
 */
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { backupDatabase, backupName } from '../../platform/backup/data-dir-backup.js';
import type { DatabaseHandle } from '../../platform/db/connect.js';
import { isAdmin } from '../../platform/events/command-context.js';
import { DomainError } from '../../platform/errors.js';
import { actorOf } from '../../platform/http/authenticate.js';

const Problem = { $ref: 'Problem#' } as const;

export const BackupTaken = Type.Object({
  file: Type.String({ description: 'Where the service wrote the backup (a gzipped tar of the data directory); its manifest is `<file>.json`' }),
  bytes: Type.Integer(),
  sha256: Type.String(),
  taken_at: Type.String({ format: 'date-time' }),
  rows: Type.Record(Type.String(), Type.Integer(), { description: 'Rows per table in the backup' }),
});

export const adminBackupRoutes: FastifyPluginAsyncTypebox<{ database: DatabaseHandle; dataDir: string }> = async (app, { database, dataDir }) => {
  app.post(
    '/v1/admin/backups',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['admin'],
        summary: 'Back up the embedded database',
        description:
          'Writes a consistent copy of the embedded database (PGlite) to DATA_DIR/backups/ while the service keeps running: writes wait for the copy, then go on. ' +
          'Answers where it is, its size, SHA-256 and rows per table. 409 when the database is a PostgreSQL server (back that up with the server: pg_dump, or point-in-time recovery). ' +
          '401 without a valid token, 403 unless admin. Conventions: no body is needed.',
        security: [{ bearerAuth: [] }],
        response: { 201: BackupTaken, 401: Problem, 403: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      if (!isAdmin(actorOf(request))) throw new DomainError('forbidden', 'AUTH.FORBIDDEN', 'only an admin may take a backup');
      if (!database.dumpDataDir) {
        throw new DomainError('conflict', 'BACKUP.NOT_EMBEDDED', 'the database is a PostgreSQL server: back it up with the server (pg_dump, or point-in-time recovery on RDS/Aurora)');
      }
      const file = path.join(dataDir, 'backups', backupName());
      const manifest = await backupDatabase(database, file);
      reply.code(201);
      return { file, bytes: manifest.bytes, sha256: manifest.sha256, taken_at: manifest.taken_at, rows: manifest.rows };
    },
  );
};
