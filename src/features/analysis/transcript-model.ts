/** A transcript as the use cases return it: the text, and timed segments with their words (pure). */
export interface TimedWord {
  word: string;
  /** Seconds from the start of the media, millisecond precision. */
  start: number;
  end: number;
  /** 0..1 when the engine gives one. */
  confidence?: number;
}

export interface Segment {
  start: number;
  end: number;
  text: string;
  words: TimedWord[];
}

export interface TranscriptContent {
  language: string;
  /** Which engine made it: `subtitles` (an embedded track) or `pocketsphinx`. */
  engine: string;
  text: string;
  segments: Segment[];
}

export interface Transcript extends Omit<TranscriptContent, 'engine'> {
  video_id: string;
  created_at: Date;
}
