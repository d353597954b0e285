/** The transcript a media file carries: its first subtitle track, read as WebVTT by ffmpeg. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseWebVtt } from '../transcript-rules.js';
import { extractSubtitles } from './media-tools.js';
import type { TranscriptionEngine } from './transcriber.js';

export const subtitleEngine: TranscriptionEngine = {
  name: 'subtitles',
  accepts: (input) => input.info.hasSubtitles,
  async transcribe(input) {
    const output = path.join(input.workDir, 'subtitles.vtt');
    await extractSubtitles(input.media, output, input.limits);
    return { language: 'en', segments: parseWebVtt(await readFile(output, 'utf8')) };
  },
};
