/**
 * `npm run package:image`: writes the container recipe of the long-running processes
 * (`npm run api`, `npm run worker`, or the embedded `npm start`) to dist/image/:
 * `Dockerfile` and `Dockerfile.dockerignore` (BuildKit reads it beside the Dockerfile), for
 * `docker build -f dist/image/Dockerfile .` from the repository root.
 *
 * The image: the Node version of `engines`, production dependencies only
 * (`npm ci --omit=dev`), the sources run through tsx as `npm start` does, a non-root user,
 * and a health check on `/health/live` (on METRICS_PORT when set: a worker serves its
 * health there).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The health probe the image runs: exit 0 when /health/live answers 200 within 2 s. */
export const HEALTH_PROBE =
  "const port = process.env.METRICS_PORT || process.env.PORT || 3000; fetch('http://127.0.0.1:' + port + '/health/live', { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))";

export async function dockerfile(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  const node = /(\d+)/.exec(pkg.engines?.node ?? '20')?.[1] ?? '20';
  return `# Written by \`npm run package:image\`; build from the repository root:
#   docker build -f dist/image/Dockerfile -t nedlia .
#   docker run -e DATABASE_URL=postgres://… -p 3000:3000 nedlia api      # or: worker, or nothing (embedded, with a volume on /data)
FROM node:${node}-bookworm-slim

ENV NODE_ENV=production \\
    HOST=0.0.0.0 \\
    PORT=3000 \\
    DATA_DIR=/data \\
    NPM_CONFIG_UPDATE_NOTIFIER=false

WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the cache is not kept in the layer.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src

# The embedded database, keys and local objects live in /data (a volume), owned by the runtime user.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node

EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \\
  CMD ["node", "-e", ${JSON.stringify(HEALTH_PROBE)}]

# SIGTERM drains requests and deliveries (see README: Operations).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--import", "tsx", "src/entry/main.ts"]
CMD ["api"]
`;
}

export const DOCKERIGNORE = `# Only package.json, package-lock.json, tsconfig.json and src/ are copied.
**
!package.json
!package-lock.json
!tsconfig.json
!src/**
`;

export async function writeImageRecipe(outDir = path.join(ROOT, 'dist/image')): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, 'Dockerfile');
  await writeFile(file, await dockerfile());
  await writeFile(path.join(outDir, 'Dockerfile.dockerignore'), DOCKERIGNORE);
  return file;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = await writeImageRecipe();
  console.log(`wrote ${path.relative(ROOT, file)} and its .dockerignore; build with: docker build -f ${path.relative(ROOT, file)} -t nedlia .`);
  console.log('(this machine has the docker client but no daemon: the image was not built here)');
}
