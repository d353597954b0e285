/**
 * Getting the media of a URL into the analysis's directory. Every byte comes through
 * the SSRF-guarded fetch (platform/outbound-fetch), with the analysis's size and time
 * limits. A URL that answers an HTML page is a video page: yt-dlp (run as a child
 * process: no playlists, no config files, a socket timeout, after the same address
 * checks) names the media URL in it, which is then fetched like any other.
 */
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { runTool } from '../../../platform/child-process/run-tool.js';
import { checkTarget } from '../../../platform/outbound-fetch/check-target.js';
import { OutboundFetchError, ResponseTooLargeError } from '../../../platform/outbound-fetch/fetch-errors.js';
import type { OutboundFetch } from '../../../platform/outbound-fetch/guarded-fetch.js';
import { failures, kindOfContent, looksLikeHtml, PermanentFailure } from '../analysis-rules.js';
import type { ToolLimits } from './media-tools.js';

export interface DownloadOptions {
  fetch: OutboundFetch;
  allowHosts: readonly string[];
  httpsOnly: boolean;
  maxBytes: number;
  timeoutMs: number;
  limits: ToolLimits;
}

const PERMANENT_CONNECT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN_PERMANENT', 'EHOSTUNREACH', 'ENETUNREACH']);

function errorCode(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
  }
  return undefined;
}

/** Permanent failures for what the fetch refused or could not reach; anything else (timeouts, resets) is thrown as is, to be retried. */
function translate(error: unknown, url: URL, maxBytes: number): unknown {
  if (error instanceof PermanentFailure) return error;
  if (error instanceof ResponseTooLargeError) return failures.tooLarge(maxBytes);
  if (error instanceof OutboundFetchError && error.code !== 'FETCH.TIMEOUT') return failures.refused(error.message);
  const code = errorCode(error);
  if (code && PERMANENT_CONNECT.has(code)) return failures.unreachable(url.host, code);
  return error;
}

/** Fetches `url` into `file`; answers 'page' (nothing kept) when it is an HTML page. */
async function fetchInto(url: URL, file: string, options: DownloadOptions, pageAllowed: boolean): Promise<{ kind: 'media' | 'page'; contentType: string }> {
  const response = await options.fetch(url.href, { timeoutMs: options.timeoutMs, maxResponseBytes: options.maxBytes });
  const contentType = String(response.headers['content-type'] ?? '');
  if (response.status < 200 || response.status > 299) {
    response.body.destroy();
    if (response.status >= 500 || response.status === 429 || response.status === 408) throw new Error(`the URL answered HTTP ${response.status} (will retry)`);
    throw failures.httpStatus(response.status, url.href);
  }
  const kind = kindOfContent(contentType);
  if (kind === 'page') {
    response.body.destroy();
    if (!pageAllowed) throw failures.notMedia(`the page's video URL answered ${contentType}`);
    return { kind: 'page', contentType };
  }
  await pipeline(response.body, createWriteStream(file));
  if (kind === 'unknown') {
    const handle = await open(file);
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
      if (looksLikeHtml(buffer.subarray(0, bytesRead).toString('utf8'))) {
        if (!pageAllowed) throw failures.notMedia('the page\'s video URL answered an HTML page');
        return { kind: 'page', contentType };
      }
    } finally {
      await handle.close();
    }
  }
  return { kind: 'media', contentType };
}

/** The media URL yt-dlp finds on a page. */
async function mediaUrlOfPage(url: URL, options: DownloadOptions, workDir: string): Promise<URL> {
  try {
    await checkTarget(url.href, { allowHosts: options.allowHosts, httpsOnly: options.httpsOnly });
  } catch (error) {
    throw translate(error, url, options.maxBytes);
  }
  const run = await runTool({
    command: 'yt-dlp',
    args: [
      '--ignore-config', '--no-playlist', '--no-cache-dir', '--no-warnings', '--quiet', '--simulate',
      '--socket-timeout', String(Math.max(1, Math.round(Math.min(options.timeoutMs, 60_000) / 1000))), '--retries', '0', '--extractor-retries', '0',
      '--max-filesize', String(options.maxBytes), '-f', 'bestaudio/best', '--get-url', '--', url.href,
    ],
    cwd: workDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: workDir, LANG: 'C.UTF-8' },
    timeoutMs: options.limits.timeoutMs, maxOutputBytes: 1024 * 1024, memoryLimitBytes: options.limits.memoryLimitBytes,
  });
  const stderr = run.stderr.toString('utf8');
  if (run.exitCode !== 0) {
    const reason = (/ERROR: (.*)/.exec(stderr)?.[1] ?? stderr.trim().split('\n').pop() ?? `exit ${run.exitCode}`).slice(0, 300);
    if (/HTTP Error 404/i.test(reason)) throw failures.httpStatus(404, url.href);
    if (/timed out|temporar/i.test(reason)) throw new Error(`yt-dlp: ${reason} (will retry)`);
    if (/Connection refused/i.test(reason)) throw failures.unreachable(url.host, 'ECONNREFUSED');
    throw failures.noVideoOnPage(url.href, reason.replace(/^\[[^\]]*\]\s*/, ''));
  }
  const first = run.stdout.toString('utf8').split('\n').map((l) => l.trim()).find(Boolean);
  if (!first) throw failures.noVideoOnPage(url.href, 'yt-dlp named no media URL');
  try {
    return new URL(first, url);
  } catch {
    throw failures.noVideoOnPage(url.href, `yt-dlp named ${first.slice(0, 100)}`);
  }
}

/** Downloads the media of `target` into `workDir`; answers the file and how it was found. */
export async function downloadMedia(target: string, workDir: string, options: DownloadOptions): Promise<{ file: string; via: 'direct' | 'yt-dlp'; extension: string }> {
  const url = new URL(target);
  const file = path.join(workDir, 'source');
  try {
    const first = await fetchInto(url, file, options, true);
    if (first.kind === 'media') return { file, via: 'direct', extension: extensionOf(url, first.contentType) };
    const mediaUrl = await mediaUrlOfPage(url, options, workDir);
    const second = await fetchInto(mediaUrl, file, options, false);
    return { file, via: 'yt-dlp', extension: extensionOf(mediaUrl, second.contentType) };
  } catch (error) {
    throw translate(error, url, options.maxBytes);
  }
}

const EXTENSIONS: Record<string, string> = { 'video/mp4': '.mp4', 'audio/mp4': '.m4a', 'video/webm': '.webm', 'audio/webm': '.webm', 'audio/mpeg': '.mp3', 'audio/wav': '.wav', 'audio/x-wav': '.wav', 'audio/ogg': '.ogg', 'video/x-matroska': '.mkv', 'video/quicktime': '.mov' };

/** A safe extension for the stored media: from the content type, else the URL's own if plain, else none. */
function extensionOf(url: URL, contentType: string): string {
  const byType = EXTENSIONS[contentType.split(';')[0]!.trim().toLowerCase()];
  if (byType) return byType;
  const ext = path.extname(url.pathname).toLowerCase();
  return /^\.[a-z0-9]{1,5}$/.test(ext) ? ext : '';
}
