/** Small text helpers shared by messages: did-you-mean, plural words, percentages, rounded figures. */

/** Levenshtein distance, for did-you-mean suggestions on unknown keys and names. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest candidate to `word`, when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lw = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lw, c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  if (best === undefined) return undefined;
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** `3 backends`, `1 backend`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** Rounds `x` to `digits` decimals, for figures in payloads and predictions (they stay readable). */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** 0.1234 → `12.3%`. */
export function pct(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return `${(x * 100).toFixed(x !== 0 && Math.abs(x) < 0.001 ? 2 : 1)}%`;
}
