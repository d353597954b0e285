/**
 * What the analysis consumers work with, made once per process from its configuration
 * (`ANALYSIS_*`, `FETCH_ALLOW_HOSTS`, `STORAGE`): the limits, the object storage and the
 * guarded fetch. Consumers are declared statically (src/entry/consumers.ts), so they
 * make these on their first delivery.
 */
import { loadConfig, type Config } from '../../../platform/config/config.js';
import { createObjectStorage } from '../../../platform/storage/create-storage.js';
import type { ObjectStorage } from '../../../platform/storage/object-storage.js';
import { outboundFetchFromConfig } from '../../../platform/outbound-fetch/create-outbound-fetch.js';
import type { OutboundFetch } from '../../../platform/outbound-fetch/guarded-fetch.js';
import { sweepWorkspaces } from './workspace.js';

export interface AnalyserDeps {
  settings: Config['analysis'];
  fetchAllowHosts: readonly string[];
  httpsOnly: boolean;
  storage: ObjectStorage;
  fetch: OutboundFetch;
  /**
   * `ANALYSIS_MODEL_DIR`: a directory with a sherpa-onnx speech model, which makes that
   * engine the one for audio (sherpa-engine.ts); unset, pocketsphinx transcribes.
   */
  modelDir: string | undefined;
}

/** `ANALYSIS_MODEL_DIR`, declared here, where it is read: the directory, or undefined when unset or blank. */
export const modelDirOf = (env: NodeJS.ProcessEnv): string | undefined => env.ANALYSIS_MODEL_DIR?.trim() || undefined;

let deps: Promise<AnalyserDeps> | undefined;

let config: Config | undefined;

/** This process's configuration (read once, when first asked: the consumer's getters ask often). */
export const analyserConfig = (): Config => (config ??= loadConfig(process.env));

export function analyserDeps(): Promise<AnalyserDeps> {
  deps ??= (async () => {
    const config = analyserConfig();
    const settings = config.analysis;
    // Whatever a killed process left behind goes before this one starts its first analysis.
    await sweepWorkspaces(settings.tempDir);
    return {
      settings,
      fetchAllowHosts: config.fetchAllowHosts,
      httpsOnly: config.nodeEnv === 'production',
      storage: createObjectStorage(config),
      fetch: outboundFetchFromConfig(config, { timeoutMs: settings.timeoutMs, maxResponseBytes: settings.maxDownloadBytes }),
      modelDir: modelDirOf(process.env),
    };
  })().catch((error: unknown) => {
    deps = undefined;
    throw error;
  });
  return deps;
}

/** Storage keys: everything of a video lives under `videos/<id>/`, which its deletion removes. */
export const videoPrefix = (videoId: string): string => `videos/${videoId}/`;
export const keys = {
  media: (videoId: string, extension: string) => `${videoPrefix(videoId)}media/source${extension}`,
  transcriptJson: (videoId: string) => `${videoPrefix(videoId)}transcript/transcript.json`,
  transcriptVtt: (videoId: string) => `${videoPrefix(videoId)}transcript/transcript.vtt`,
};
