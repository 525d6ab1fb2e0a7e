/**
 * Runtime changes to one backend (drain, a new weight) as config changes. An operator's "drain
 * web-1" is the change most likely to be made in a hurry, and the one that took the seed
 * incident's site down (issue 13 measured on HAProxy: draining s1 while s2 had weight 0 turned
 * every request into a 503). So it is not a side door into the data plane: the active version's
 * text gets that one weight changed, and the result goes through `apply` like any change —
 * validated (a pool left with no usable backend, or one over capacity, is refused with the
 * finding that names it), stored as a version, canaried or forced with a reason, watched and
 * rolled back. Both engines then serve it the same way; HAProxy takes the weight at run time
 * (`set server … weight`) before its reload.
 */
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { UsageError } from '../errors.js';

/** Which backend, and its new weight (0 drains it). */
export interface BackendWeightChange {
  readonly pool: string;
  /** The backend's name, or its address when it has none. */
  readonly backend: string;
  readonly weight: number;
}

/**
 * The config text with one backend's weight set (comments and layout kept). Throws UsageError
 * naming the pool or backend when the active version has no such one, or for a bad weight.
 */
export function withBackendWeight(text: string, change: BackendWeightChange): string {
  const { pool, backend, weight } = change;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw new UsageError(`weight ${String(weight)} for backend ${backend} of pool ${pool}: expected a number >= 0 (0 drains it)`);
  const doc = parseDocument(text);
  const pools = doc.get('pools');
  if (!isMap(pools)) throw new UsageError('the active version has no pools');
  const p = pools.get(pool);
  const names = pools.items.map((i) => String(isScalar(i.key) ? i.key.value : i.key));
  if (!isMap(p)) throw new UsageError(`no pool "${pool}" in the active version (pools: ${names.join(', ')})`);
  const list = p.get('backends');
  const items = isSeq(list) ? list.items.filter((b): b is YAMLMap => isMap(b)) : [];
  const label = (b: YAMLMap) => String(b.get('name') ?? b.get('address'));
  const target = items.find((b) => b.get('name') === backend) ?? items.find((b) => b.get('name') === undefined && b.get('address') === backend) ?? items.find((b) => b.get('address') === backend);
  if (!target) throw new UsageError(`no backend "${backend}" in pool ${pool} of the active version (backends: ${items.map(label).join(', ')})`);
  target.set('weight', weight);
  return doc.toString();
}
