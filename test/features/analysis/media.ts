/**
 * Test media made on the spot: speech from known sentences with `flite -voice rms`,
 * silences between them, muxed by ffmpeg into an mp4 (with a small video track, and
 * optionally a subtitle track), and a loopback HTTP server that serves files and
 * canned answers.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const run = (command: string, args: string[]) => execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });

export interface SpeechClip {
  file: string;
  /** The sentences spoken, joined. */
  text: string;
  /** Seconds, as ffprobe reads the file. */
  duration: number;
}

export function probeDuration(file: string): number {
  return Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file]).toString().trim());
}

/**
 * An mp4 of `sentences` spoken one after another with `gapSeconds` of silence between
 * them; `subtitles` adds a mov_text track with the sentences as cues.
 */
export function speechClip(dir: string, name: string, sentences: readonly string[], options: { gapSeconds?: number; subtitles?: boolean; video?: boolean } = {}): SpeechClip {
  const gap = options.gapSeconds ?? 1.5;
  const parts: string[] = [];
  const cues: { start: number; end: number; text: string }[] = [];
  let at = 0;
  sentences.forEach((sentence, i) => {
    const wav = path.join(dir, `${name}-s${i}.wav`);
    run('flite', ['-voice', 'rms', '-t', sentence, '-o', wav]);
    const length = probeDuration(wav);
    cues.push({ start: at, end: at + length, text: sentence });
    at += length;
    parts.push(wav);
    if (i < sentences.length - 1) {
      const silence = path.join(dir, `${name}-gap${i}.wav`);
      run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `anullsrc=r=8000:cl=mono`, '-t', String(gap), '-c:a', 'pcm_s16le', silence]);
      parts.push(silence);
      at += gap;
    }
  });
  const list = path.join(dir, `${name}-list.txt`);
  writeFileSync(list, parts.map((p) => `file '${p}'`).join('\n'));
  const speech = path.join(dir, `${name}-speech.wav`);
  run('ffmpeg', ['-v', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', speech]);
  const file = path.join(dir, `${name}.mp4`);
  const video = options.video ?? true;
  const inputs: string[] = [];
  const maps: string[] = [];
  const codecs: string[] = [];
  let index = 0;
  if (video) {
    inputs.push('-f', 'lavfi', '-i', 'color=c=black:s=64x64:r=5');
    maps.push('-map', `${index++}:v`);
    codecs.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  }
  inputs.push('-i', speech);
  maps.push('-map', `${index++}:a`);
  codecs.push('-c:a', 'aac', '-b:a', '48k');
  if (options.subtitles) {
    const srt = path.join(dir, `${name}.srt`);
    const t = (s: number) => new Date(Math.round(s * 1000)).toISOString().slice(11, 23).replace('.', ',');
    writeFileSync(srt, cues.map((c, i) => `${i + 1}\n${t(c.start)} --> ${t(c.end)}\n${c.text}\n`).join('\n'));
    inputs.push('-i', srt);
    maps.push('-map', `${index++}:s`);
    codecs.push('-c:s', 'mov_text');
  }
  run('ffmpeg', ['-v', 'error', '-y', ...inputs, ...maps, ...codecs, '-shortest', file]);
  return { file, text: sentences.join(' '), duration: probeDuration(file) };
}

/** A few seconds of video with no audio stream. */
export function silentVideo(dir: string, name: string): string {
  const file = path.join(dir, `${name}.mp4`);
  run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=blue:s=64x64:r=5', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file]);
  return file;
}

/** A file (sent in `chunks` pieces `chunkDelayMs` apart when given), or a canned answer. */
export type Route = { file: string; contentType: string; chunks?: number; chunkDelayMs?: number } | { status: number; body: string; contentType: string };

export interface MediaServer {
  url(pathname: string): string;
  route(pathname: string, route: Route): void;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startMediaServer(): Promise<MediaServer> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(pathname, (hits.get(pathname) ?? 0) + 1);
    const route = routes.get(pathname);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if ('file' in route) {
      res.writeHead(200, { 'content-type': route.contentType, 'content-length': statSync(route.file).size });
      if (!route.chunks) {
        createReadStream(route.file).pipe(res);
        return;
      }
      const bytes = readFileSync(route.file);
      const size = Math.ceil(bytes.length / route.chunks);
      let sent = 0;
      const next = () => {
        if (res.destroyed) return;
        res.write(bytes.subarray(sent, sent + size));
        sent += size;
        if (sent >= bytes.length) res.end();
        else setTimeout(next, route.chunkDelayMs ?? 100);
      };
      next();
      return;
    }
    res.writeHead(route.status, { 'content-type': route.contentType }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (pathname) => `http://127.0.0.1:${port}${pathname}`,
    route: (pathname, route) => void routes.set(pathname, route),
    hits,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
