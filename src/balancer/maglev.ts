/**
 * Weighted Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table of a prime size M in
 * which each backend owns slots in proportion to its weight. Lookup is O(1); building is
 * O(M) amortised. When a backend leaves, only about its own share of keys move (the paper's
 * "minimal disruption"), and every backend's slot count is within a few slots of its fair
 * share ("bounded imbalance"), unlike a ring of virtual nodes.
 *
 * The same table answers the data plane's pick and the analysis' prediction, so a plan
 * predicts exactly where each sampled key will go.
 */
import { hash32 } from './hash.js';

/** Table sizes: primes; 65537 is Envoy's default size. */
const PRIMES = [5003, 10007, 20011, 40009, 65537, 131071, 262139, 524287];

/**
 * Table size for n endpoints: the smallest listed prime of at least 100 slots per endpoint
 * (the paper's rule for imbalance under 1%), at least 5003. A 10-backend pool builds a
 * 5003-slot table in a fraction of the time of a 65537-slot one with the same balance.
 */
export function maglevTableSize(n: number): number {
  for (const p of PRIMES) if (p >= 100 * n) return p;
  return PRIMES[PRIMES.length - 1];
}

/** A built table: `slots[h % size]` is the index of the endpoint that owns the hash h. */
export class MaglevTable {
  readonly slots: Int32Array;
  readonly size: number;

  /**
   * Builds the table over `names` with `weights` (0 = not in the table). With no positive
   * weight the table is empty and `lookup` returns -1.
   */
  constructor(names: readonly string[], weights: readonly number[], size = maglevTableSize(names.length)) {
    this.size = size;
    this.slots = new Int32Array(size).fill(-1);
    const members: number[] = [];
    let maxWeight = 0;
    for (let i = 0; i < names.length; i++) {
      if (weights[i] > 0) {
        members.push(i);
        if (weights[i] > maxWeight) maxWeight = weights[i];
      }
    }
    if (members.length === 0) return;
    const n = members.length;
    // Each member walks its own permutation offset, offset+skip, offset+2·skip … (mod size);
    // `pos` is where its walk stands, advanced by addition instead of a multiply and modulo.
    const pos = new Int32Array(n);
    const skip = new Int32Array(n);
    const credit = new Float64Array(n);
    const w = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const name = names[members[j]];
      pos[j] = hash32(name, 0x9e3779b9) % size;
      skip[j] = (hash32(name, 0x7f4a7c15) % (size - 1)) + 1;
      w[j] = weights[members[j]] / maxWeight;
    }
    // Round after round, every member earns credit equal to its normalised weight and claims
    // one slot per whole credit: the heaviest claims a slot every round, one of half its
    // weight every other round. A claim walks the member's permutation to a free slot.
    const slots = this.slots;
    let filled = 0;
    while (filled < size) {
      for (let j = 0; j < n && filled < size; j++) {
        credit[j] += w[j];
        if (credit[j] < 1) continue;
        credit[j] -= 1;
        let c = pos[j];
        while (slots[c] !== -1) {
          c += skip[j];
          if (c >= size) c -= size;
        }
        slots[c] = members[j];
        c += skip[j];
        pos[j] = c >= size ? c - size : c;
        filled++;
      }
    }
  }

  /** The endpoint index that owns `key`, or -1 for an empty table. */
  lookup(key: string): number {
    return this.slots[hash32(key) % this.size];
  }

  /** Slots owned by each endpoint index (length = `count`); shares without a sample. */
  slotShares(count: number): number[] {
    if (this.shares?.length === count) return this.shares;
    const out = new Array<number>(count).fill(0);
    for (let i = 0; i < this.size; i++) if (this.slots[i] >= 0) out[this.slots[i]]++;
    this.shares = out.map((c) => c / this.size);
    return this.shares;
  }

  private shares?: number[];
}
