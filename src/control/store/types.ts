/**
 * The config store's contract: versions, the events journal and the last-known-good pointer.
 * Kept narrow and asynchronous so a distributed store (etcd) can implement it beside SQLite;
 * every implementation runs the same conformance suite (test/control/store-suite.ts).
 */

/** Where a version is in its life. Only one version is `active` and at most one is `canary`. */
export type VersionStatus = 'canary' | 'active' | 'aborted' | 'rolled-back' | 'refused' | 'superseded';

/** Every status, for schemas and checks. */
export const VERSION_STATUSES: readonly VersionStatus[] = ['canary', 'active', 'aborted', 'rolled-back', 'refused', 'superseded'];

/** One stored config version. Ids count up from 1 and are never reused. */
export interface ConfigVersion {
  id: number;
  text: string;
  /** sha256 of `text`, hex. */
  hash: string;
  author: string;
  reason: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  status: VersionStatus;
}

/** The journal's event types evenkeel writes; other strings are allowed for later additions. */
export type KnownEventType =
  | 'config.applied'
  | 'config.refused'
  | 'canary.started'
  | 'canary.promoted'
  | 'canary.aborted'
  | 'alert.fired'
  | 'alert.resolved'
  /** A webhook notice given up on after its retries. */
  | 'alert.undelivered'
  | 'rollback.auto'
  | 'rollback.manual'
  | 'backend.down'
  | 'backend.up';

/** An event type: a known one, or any other dotted name. */
export type EventType = KnownEventType | (string & {});

/** One journal entry. Append-only: never updated or deleted. */
export interface StoreEvent {
  id: number;
  /** Milliseconds since the epoch. */
  time: number;
  type: EventType;
  /** The config version the event is about, if any. */
  version: number | null;
  data: Record<string, unknown>;
}

/** An event to append; `time` defaults to the store's clock, `version` to the version being written. */
export interface NewEvent {
  type: EventType;
  version?: number | null;
  time?: number;
  data?: Record<string, unknown>;
}

/** A version to add. `active` activates it in the same transaction (apply --no-canary). */
export interface NewVersion {
  text: string;
  author: string;
  reason: string;
  status: 'canary' | 'active' | 'refused';
  createdAt?: number;
}

/** Options of `activate`: what the replaced active version becomes, and the event to journal. */
export interface ActivateOptions {
  /** Status of the version that was active until now: `superseded` (default) or `rolled-back`. */
  previousStatus?: 'superseded' | 'rolled-back';
  event?: NewEvent;
}

/** Filters for `events()`; times are inclusive milliseconds since the epoch. */
export interface EventQuery {
  since?: number;
  until?: number;
  type?: EventType | readonly EventType[];
  version?: number;
  /** Only events with an id greater than this (for tailing the journal). */
  afterId?: number;
  /** At most this many, oldest first. */
  limit?: number;
}

/** Filters for `list()`; newest first. */
export interface VersionQuery {
  status?: VersionStatus;
  limit?: number;
}

/** What a version write returns: the version as stored and its event, if one was given. */
export interface VersionWrite {
  version: ConfigVersion;
  event?: StoreEvent;
}

/** The store. Every write that takes an `event` commits the change and the event together or not at all. */
export interface ConfigStore {
  /** Adds a version (hash computed here); `status: 'active'` also supersedes the current one. */
  addVersion(v: NewVersion, event?: NewEvent): Promise<VersionWrite>;
  /** Moves a version to `status` (canary → aborted); activation goes through `activate`. */
  setStatus(id: number, status: VersionStatus, event?: NewEvent): Promise<VersionWrite>;
  /** Makes `id` the active version; the previous active one becomes `options.previousStatus`. */
  activate(id: number, options?: ActivateOptions): Promise<VersionWrite>;
  /** Points last-known-good at `id` (an active or formerly active version). */
  markKnownGood(id: number, event?: NewEvent): Promise<VersionWrite>;
  /** The last-known-good version, if one was marked. */
  lastKnownGood(): Promise<ConfigVersion | undefined>;
  /** The active version, if any. */
  active(): Promise<ConfigVersion | undefined>;
  /** The canary version, if any. */
  canary(): Promise<ConfigVersion | undefined>;
  /** One version by id. */
  get(id: number): Promise<ConfigVersion | undefined>;
  /** Versions, newest first. */
  list(query?: VersionQuery): Promise<ConfigVersion[]>;
  /** Appends one event to the journal. */
  appendEvent(event: NewEvent): Promise<StoreEvent>;
  /** Events matching `query`, oldest first. */
  events(query?: EventQuery): Promise<StoreEvent[]>;
  /** Releases the store; later calls fail. */
  close(): Promise<void>;
}
