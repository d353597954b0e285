/** Analysis: the JSON shapes and how a transcript becomes one. */
import { Type } from 'typebox';
import { EXPECTED } from '../../platform/http/validation.js';
import type { Transcript } from './transcript-model.js';
import { toWebVtt } from './transcript-rules.js';

export const AnalyzeBody = Type.Object(
  {
    url: Type.String({
      minLength: 1, maxLength: 2048, format: 'uri',
      description: 'A video page (read with yt-dlp) or a media file URL, http or https',
      [EXPECTED]: 'an absolute http or https URL such as "https://videos.example.com/trailer.mp4"',
    }),
  },
  { additionalProperties: false },
);

export const TranscriptQuery = Type.Object(
  { format: Type.Optional(Type.Enum(['json', 'vtt'], { description: '`vtt` answers WebVTT captions (text/vtt)' })) },
  { additionalProperties: false },
);

const Seconds = Type.Number({ minimum: 0, description: 'Seconds from the start, millisecond precision' });
const Word = Type.Object({ word: Type.String(), start: Seconds, end: Seconds, confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })) }, { additionalProperties: false });
const Segment = Type.Object({ start: Seconds, end: Seconds, text: Type.String(), words: Type.Array(Word) }, { additionalProperties: false });

export const TranscriptSchema = Type.Object(
  {
    video_id: Type.String({ format: 'uuid' }),
    language: Type.String(),
    text: Type.String(),
    segments: Type.Array(Segment),
    created_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, description: 'What was said in a video, in timed segments with word timings' },
);

export function transcriptJson(t: Transcript) {
  return { video_id: t.video_id, language: t.language, text: t.text, segments: t.segments, created_at: t.created_at.toISOString() };
}

export const transcriptVtt = (t: Transcript): string => toWebVtt(t.segments);
