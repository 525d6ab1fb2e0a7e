/**
 * String hashing for the consistent-hash ring: FNV-1a over UTF-16 code units, finished with
 * murmur3's fmix32 so that similar keys (user-1, user-2) land far apart. Stable across
 * processes and versions: the analysis and the data plane must agree on every key.
 */

/** 32-bit hash of a string, with an optional seed for independent hash families. */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
