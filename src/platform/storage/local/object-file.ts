/**
 * One object on disk is one file: a header line (`nedlia-object/1 {"contentType":…}\n`)
 * then the bytes. Keeping the content type inside the file lets a put replace both
 * with one rename.
 */
import type { FileHandle } from 'node:fs/promises';

const MAGIC = 'nedlia-object/1 ';
const MAX_HEADER = 1024;

export function encodeHeader(contentType: string): Buffer {
  return Buffer.from(`${MAGIC}${JSON.stringify({ contentType })}\n`, 'utf8');
}

/** Reads the header of an open object file: its content type and where the bytes start. */
export async function readHeader(file: FileHandle, where: string): Promise<{ contentType: string; offset: number }> {
  const buffer = Buffer.alloc(MAX_HEADER);
  const { bytesRead } = await file.read(buffer, 0, MAX_HEADER, 0);
  const end = buffer.subarray(0, bytesRead).indexOf(0x0a);
  const line = end < 0 ? '' : buffer.subarray(0, end).toString('utf8');
  if (!line.startsWith(MAGIC)) throw new Error(`${where} is not an object file (no header)`);
  const parsed = JSON.parse(line.slice(MAGIC.length)) as { contentType?: unknown };
  if (typeof parsed.contentType !== 'string') throw new Error(`${where} has no content type in its header`);
  return { contentType: parsed.contentType, offset: end + 1 };
}
