/**
 * Positions in a YAML document: turns a path such as ["pools","web","backends",0] into the
 * line and column an editor shows, so every finding can say `file:line:column`.
 */
import { isMap, isSeq, isScalar, type Document, type LineCounter, type Node } from 'yaml';

/** Line/column, both 1-based. */
export interface Position {
  line: number;
  column: number;
}

/** Anything that maps a config path to where it is written (YAML, or a foreign config). */
export interface PathLocator {
  locate(path: readonly (string | number)[]): Position | undefined;
}

/**
 * A locator over positions recorded while reading a foreign config (haproxy.cfg, nginx.conf):
 * each model path the reader built points at the line that produced it; a path not recorded
 * resolves to its nearest recorded parent.
 */
export class RecordedLocator implements PathLocator {
  private readonly at = new Map<string, Position>();

  /** Records where `path` comes from (the first record wins). */
  set(path: readonly (string | number)[], pos: Position): void {
    const key = path.join('\u0000');
    if (!this.at.has(key)) this.at.set(key, pos);
  }

  locate(path: readonly (string | number)[]): Position | undefined {
    for (let n = path.length; n >= 0; n--) {
      const hit = this.at.get(path.slice(0, n).join('\u0000'));
      if (hit) return hit;
    }
    return undefined;
  }
}

/** Finds where a path lives in a parsed YAML document. */
export class SourceLocator implements PathLocator {
  constructor(
    private readonly doc: Document.Parsed | undefined,
    private readonly lineCounter: LineCounter,
  ) {}

  /** The position of an offset in the text. */
  at(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  /**
   * Where `path` is written: for a mapping key, the key itself (`web:`), for a sequence item
   * its first character. A path that does not exist (a missing key) resolves to its nearest
   * existing parent.
   */
  locate(path: readonly (string | number)[]): Position | undefined {
    if (!this.doc?.contents) return undefined;
    let node: unknown = this.doc.contents;
    let best: number | undefined = (this.doc.contents as Node).range?.[0];
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) break;
        const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
        if (keyRange) best = keyRange[0];
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        if (item.range) best = item.range[0];
        node = item;
      } else {
        break;
      }
    }
    return best === undefined ? undefined : this.at(best);
  }
}

/** `pools.web.backends[0].weight`, the way messages name a place in the config. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_\-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(top level)';
}
