/**
 * Request body limit for bodies without a Content-Length (chunked): counts bytes as they pass
 * and fails the stream past the limit, which aborts the upstream request and answers 413.
 * Bodies with a Content-Length are checked before anything is sent.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { BodyLimitError } from '../errors.js';

/** Passes bytes through until `limit` is exceeded, then errors with BodyLimitError. */
export class BodyLimiter extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) cb(new BodyLimitError(this.limit));
    else cb(null, chunk);
  }
}
