/**
 * The rules every store enforces the same way, whatever keeps the bytes: which status moves
 * are allowed, and how a version is hashed. Kept apart so SQLite, memory and a later etcd
 * store cannot disagree.
 */
import { createHash } from 'node:crypto';
import { VersionStateError } from '../../errors.js';
import type { ConfigVersion, EventQuery, StoreEvent, VersionStatus } from './types.js';

/** sha256 of a config text, hex: what `evenkeel_config_info{hash}` shows. */
export function hashText(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// setStatus covers only the moves that do not touch the active version; activate() owns the
// rest so "exactly one active" can never be broken by a single call.
const SET_STATUS: Partial<Record<VersionStatus, readonly VersionStatus[]>> = {
  canary: ['aborted'],
};

const ACTIVATABLE: readonly VersionStatus[] = ['canary', 'superseded', 'rolled-back'];

/** Throws unless `v` may move to `to` through setStatus. */
export function checkSetStatus(v: ConfigVersion | undefined, id: number, to: VersionStatus): ConfigVersion {
  const found = mustExist(v, id);
  if (!(SET_STATUS[found.status] ?? []).includes(to)) {
    const hint = to === 'active' ? '; use activate()' : '';
    throw new VersionStateError(`version ${id} is ${found.status} and cannot become ${to}${hint}`);
  }
  return found;
}

/** Throws unless `v` may become the active version. */
export function checkActivate(v: ConfigVersion | undefined, id: number): ConfigVersion {
  const found = mustExist(v, id);
  if (!ACTIVATABLE.includes(found.status)) {
    const why = found.status === 'active' ? 'it is already active' : `a ${found.status} version is never served again; apply its text as a new version instead`;
    throw new VersionStateError(`version ${id} cannot be activated: ${why}`);
  }
  return found;
}

/** Throws unless `v` has served as the active version (only such a version is known good). */
export function checkKnownGood(v: ConfigVersion | undefined, id: number): ConfigVersion {
  const found = mustExist(v, id);
  if (found.status !== 'active' && found.status !== 'superseded') {
    throw new VersionStateError(`version ${id} is ${found.status}; only an active (or formerly active) version can be marked known good`);
  }
  return found;
}

/** Throws when a second canary would start while one is running. */
export function checkNoCanary(current: ConfigVersion | undefined): void {
  if (current) throw new VersionStateError(`version ${current.id} is already in canary; promote or abort it first`);
}

/** Throws VersionStateError for an unknown id. */
export function mustExist(v: ConfigVersion | undefined, id: number): ConfigVersion {
  if (!v) throw new VersionStateError(`version ${id} does not exist`);
  return v;
}

/** True when `e` passes `q` (used by stores that filter in memory). */
export function eventMatches(e: StoreEvent, q: EventQuery): boolean {
  if (q.since !== undefined && e.time < q.since) return false;
  if (q.until !== undefined && e.time > q.until) return false;
  if (q.afterId !== undefined && e.id <= q.afterId) return false;
  if (q.version !== undefined && e.version !== q.version) return false;
  if (q.type !== undefined) {
    const types = typeof q.type === 'string' ? [q.type] : q.type;
    if (!types.includes(e.type)) return false;
  }
  return true;
}
