/**
 * The transcription port: an engine turns the prepared media of an analysis into timed
 * segments. `chooseEngine` picks the first that can: the media's own subtitle track
 * when it has one, else sherpa-onnx when ANALYSIS_MODEL_DIR names a model directory, else
 * pocketsphinx (the default, Debian's pocketsphinx-en-us model).
 */
import type { Segment } from '../transcript-model.js';
import type { MediaInfo, ToolLimits } from './media-tools.js';

export interface TranscriptionInput {
  /** The downloaded media file. */
  media: string;
  info: MediaInfo;
  /** The 16 kHz mono WAV, made on demand (engines that read audio ask for it). */
  audio(): Promise<string>;
  /** A directory of this analysis for the engine's own files. */
  workDir: string;
  limits: ToolLimits;
}

export interface TranscriptionEngine {
  name: string;
  /** Whether this engine can transcribe the input. */
  accepts(input: TranscriptionInput): boolean;
  transcribe(input: TranscriptionInput): Promise<{ language: string; segments: Segment[] }>;
}

export function chooseEngine(engines: readonly TranscriptionEngine[], input: TranscriptionInput): TranscriptionEngine | undefined {
  return engines.find((e) => e.accepts(input));
}
