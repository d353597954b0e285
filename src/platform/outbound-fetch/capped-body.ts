import { Transform } from 'node:stream';
import { ResponseTooLargeError } from './fetch-errors.js';

/** Passes bytes through until more than `maxBytes` came, then fails with `ResponseTooLargeError`. */
export function cappedBody(url: string, maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(new ResponseTooLargeError(url, maxBytes));
      else done(null, chunk);
    },
  });
}
