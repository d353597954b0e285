/**
 * The banner of an ESM bundle that holds CommonJS packages: what they expect to find,
 * `require`, `__filename` and `__dirname` (the bundle's own). Shared by the service's
 * build (scripts/build.mjs) and the Lambda packaging.
 */
export const ESM_BANNER = [
  "import { createRequire as __nedliaCreateRequire } from 'node:module';",
  "import { fileURLToPath as __nedliaFileUrlToPath } from 'node:url';",
  "import { dirname as __nedliaDirname } from 'node:path';",
  'const require = __nedliaCreateRequire(import.meta.url);',
  'const __filename = __nedliaFileUrlToPath(import.meta.url);',
  'const __dirname = __nedliaDirname(__filename);',
].join('\n');
