/** Where the haproxy.cfg reader puts what it finds: findings at their word, and model paths at theirs. */
import { finding, type Code, type Finding } from '../../config/index.js';
import { RecordedLocator } from '../../config/index.js';
import type { Word } from './lexer.js';

/** Collects findings (positioned at a haproxy.cfg word) and the locator of model paths. */
export class Sink {
  readonly findings: Finding[] = [];
  readonly locator = new RecordedLocator();
  private readonly seen = new Set<string>();

  /** `path` of the model was written at `word`. */
  at(path: (string | number)[], word: Word): void {
    this.locator.set(path, { line: word.line, column: word.column });
  }

  /** A finding at `word` with the catalogue's severity; the same message at the same place once. */
  add(code: Code, word: Word, message: string, hint: string, subject: Finding['subject'] = {}): void {
    const key = `${code}\u0000${word.line}:${word.column}\u0000${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.findings.push({ ...finding(code, { message, hint, path: [], subject }), line: word.line, column: word.column });
  }

  /** A line HAProxy would refuse, or a value evenkeel cannot read. */
  error(code: Code, word: Word, message: string, hint: string, subject: Finding['subject'] = {}): void {
    this.add(code, word, message, hint, subject);
  }

  /** Something the model cannot hold: the prediction is partial there. */
  partial(word: Word, message: string): void {
    this.add('EK502', word, `${message} (the prediction is partial here)`, 'nothing to fix in HAProxy; treat the predicted shares around this line as an estimate, or express it with ACLs evenkeel models (hdr(host), path_beg, method)');
  }

  /** An info finding with its own code. */
  info(code: Code, word: Word, message: string, hint: string, subject: Finding['subject'] = {}): void {
    this.add(code, word, message, hint, subject);
  }
}
