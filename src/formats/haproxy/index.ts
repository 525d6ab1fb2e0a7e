/** The haproxy.cfg reader: text or file → evenkeel's config model with haproxy.cfg positions. */
import { readBounded, MAX_CONFIG_BYTES, type LoadResult } from '../../config/index.js';
import { finding } from '../../config/index.js';
import { RecordedLocator } from '../../config/index.js';
import { readHaproxy, type ReadOptions } from './read.js';

export { readHaproxy, type ReadOptions } from './read.js';
export { looksLikeHaproxy } from './sections.js';
export { renderHaproxy, DRAW_RANGE, CANARY_PREFIX } from './write.js';
export type { CertificatePair, PemFor } from './render/tls.js';
export { haName } from './render/text.js';

/**
 * Reads a haproxy.cfg file. Throws FileReadError only when it cannot be read at all; a file
 * too large or not text is one EK500 finding with its location.
 */
export function readHaproxyFile(file: string, options: ReadOptions = {}): LoadResult {
  const buf = readBounded(file, MAX_CONFIG_BYTES);
  if (buf === undefined) return notText(file, `${file} is larger than ${MAX_CONFIG_BYTES / 1048576} MiB, which no haproxy.cfg a human reviews is`, 1);
  const problem = textProblem(buf);
  if (problem) return notText(file, `${file} is not text: ${problem.what}`, problem.line);
  return readHaproxy(buf.toString('utf8'), file, options);
}

/** A NUL byte or invalid UTF-8, and the line it is on. */
export function textProblem(buf: Buffer): { what: string; line: number } | undefined {
  const nul = buf.indexOf(0);
  let bad = nul;
  let what = 'it contains a NUL byte';
  if (bad < 0) {
    const text = buf.toString('utf8');
    const at = text.indexOf('\uFFFD');
    if (at < 0 || Buffer.from(text, 'utf8').equals(buf)) return undefined;
    bad = Buffer.byteLength(text.slice(0, at));
    what = 'it is not valid UTF-8';
  }
  let line = 1;
  for (let i = 0; i < bad; i++) if (buf[i] === 10) line++;
  return { what, line };
}

function notText(file: string, message: string, line: number): LoadResult {
  const f = finding('EK500', { message, hint: 'check that this is the haproxy.cfg and not a log, a dump or a binary', path: [] });
  return { file, text: '', findings: [{ ...f, line, column: 1 }], locator: new RecordedLocator() };
}
