/**
 * Analysis rules, pure: which URLs may be analysed, how far each stage brings the
 * progress, and the failures that end an analysis at once (retrying could not help),
 * each with a reason a person understands.
 */

/** `analysis_progress` once each stage has finished. */
export const PROGRESS = { queued: 0, downloaded: 40, probed: 50, audio: 60, transcribed: 90, stored: 100 } as const;

export const MAX_URL_LENGTH = 2048;

/** Why a URL cannot be analysed, or undefined when it may be (the worker checks its address). */
export function urlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL, not ${url.protocol.replace(/:$/, '')}`;
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  return undefined;
}

const MEDIA_TYPES = /^(video|audio)\/|^application\/(octet-stream|mp4|ogg|x-matroska|vnd\.apple\.mpegurl)$/i;

/** What the answer's `content-type` says the URL is: media to read, a page to extract a video from, or unknown (sniff). */
export function kindOfContent(contentType: string | undefined): 'media' | 'page' | 'unknown' {
  const type = (contentType ?? '').split(';')[0]!.trim();
  if (type === '') return 'unknown';
  if (/^text\/html$|^application\/xhtml\+xml$/i.test(type)) return 'page';
  if (MEDIA_TYPES.test(type)) return 'media';
  return 'unknown';
}

/** Whether the first bytes of a body are an HTML document. */
export function looksLikeHtml(head: string): boolean {
  return /^\s*(<!doctype html|<html|<head|<body)/i.test(head);
}

/** An analysis that cannot succeed however often it is tried. */
export class PermanentFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PermanentFailure';
  }
}

export const failures = {
  httpStatus: (status: number, url: string) =>
    new PermanentFailure(status === 404 ? `the URL was not found (HTTP 404): ${url}` : `the URL answered HTTP ${status}: ${url}`),
  refused: (message: string) => new PermanentFailure(`the URL may not be fetched: ${message}`),
  unreachable: (host: string, code: string) => new PermanentFailure(`could not connect to ${host} (${code}): nothing answers there`),
  noVideoOnPage: (url: string, detail: string) => new PermanentFailure(`the URL is an HTML page with no video that can be downloaded (${detail}): ${url}`),
  notMedia: (detail: string) => new PermanentFailure(`the downloaded file is not a video or audio file ffprobe can read (${detail})`),
  noAudio: () => new PermanentFailure('the media has no audio stream to transcribe'),
  tooLarge: (maxBytes: number) => new PermanentFailure(`the media is larger than the limit of ${Math.round(maxBytes / 1024 / 1024)} MB`),
  tooLong: (seconds: number, maxSeconds: number) => new PermanentFailure(`the media lasts ${Math.round(seconds)} s, longer than the limit of ${maxSeconds} s`),
  unknownDuration: () => new PermanentFailure('the media has no duration that ffprobe can read'),
};

/** The reason stored when transient failures used up every attempt. */
export function gaveUp(attempts: number, message: string): string {
  return `the analysis failed ${attempts} times, the last with: ${message}`;
}

/**
 * The reason stored when the analyser's event went to the dead letters: the analysis
 * can no longer finish by itself, and asking again (POST /v1/analyze) starts a new one.
 */
export function deadLettered(cause: 'invalid' | 'failed' | 'abandoned', attempts: number, error: string): string {
  const again = 'analyse the URL again to retry';
  const detail = error.replace(/^Error: /, '').slice(0, 500);
  if (cause === 'abandoned') {
    return `the analysis was interrupted ${attempts} times before it could finish (the worker stopped, or ran past its time, while analysing this video); ${again}`;
  }
  if (cause === 'invalid') return `the analysis request could not be read (${detail}); ${again}`;
  return `${gaveUp(attempts, detail)}; ${again}`;
}
