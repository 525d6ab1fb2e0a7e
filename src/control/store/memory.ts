/**
 * A store held in memory: for tests of the parts built on the store (rollout, report), and a
 * reference for what the contract means. Copies in and out, so callers cannot mutate it.
 */
import { StoreError } from '../../errors.js';
import { checkActivate, checkKnownGood, checkNoCanary, checkSetStatus, eventMatches, hashText } from './rules.js';
import type { ActivateOptions, ConfigStore, ConfigVersion, EventQuery, NewEvent, NewVersion, StoreEvent, VersionQuery, VersionStatus, VersionWrite } from './types.js';

/** Options shared by the store implementations. */
export interface StoreOptions {
  /** The clock for createdAt and event times (tests inject one). */
  now?: () => number;
}

/** The in-memory ConfigStore. */
export class MemoryStore implements ConfigStore {
  private readonly versions: ConfigVersion[] = [];
  private readonly journal: StoreEvent[] = [];
  private knownGood: number | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(options: StoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async addVersion(v: NewVersion, event?: NewEvent): Promise<VersionWrite> {
    this.open();
    if (v.status === 'canary') checkNoCanary(this.find('canary'));
    const version: ConfigVersion = { id: this.versions.length + 1, text: v.text, hash: hashText(v.text), author: v.author, reason: v.reason, createdAt: v.createdAt ?? this.now(), status: v.status };
    if (v.status === 'active') this.demoteActive('superseded');
    this.versions.push(version);
    return { version: { ...version }, event: this.push(event, version.id) };
  }

  async setStatus(id: number, status: VersionStatus, event?: NewEvent): Promise<VersionWrite> {
    this.open();
    const v = checkSetStatus(this.versions[id - 1], id, status);
    v.status = status;
    return { version: { ...v }, event: this.push(event, id) };
  }

  async activate(id: number, options: ActivateOptions = {}): Promise<VersionWrite> {
    this.open();
    const v = checkActivate(this.versions[id - 1], id);
    this.demoteActive(options.previousStatus ?? 'superseded');
    v.status = 'active';
    return { version: { ...v }, event: this.push(options.event, id) };
  }

  async markKnownGood(id: number, event?: NewEvent): Promise<VersionWrite> {
    this.open();
    const v = checkKnownGood(this.versions[id - 1], id);
    this.knownGood = id;
    return { version: { ...v }, event: this.push(event, id) };
  }

  async lastKnownGood(): Promise<ConfigVersion | undefined> {
    this.open();
    return this.copy(this.knownGood === undefined ? undefined : this.versions[this.knownGood - 1]);
  }

  async active(): Promise<ConfigVersion | undefined> {
    this.open();
    return this.copy(this.find('active'));
  }

  async canary(): Promise<ConfigVersion | undefined> {
    this.open();
    return this.copy(this.find('canary'));
  }

  async get(id: number): Promise<ConfigVersion | undefined> {
    this.open();
    return this.copy(this.versions[id - 1]);
  }

  async list(query: VersionQuery = {}): Promise<ConfigVersion[]> {
    this.open();
    const all = [...this.versions].reverse().filter((v) => query.status === undefined || v.status === query.status);
    return all.slice(0, query.limit ?? all.length).map((v) => ({ ...v }));
  }

  async appendEvent(event: NewEvent): Promise<StoreEvent> {
    this.open();
    return this.push(event, null) as StoreEvent;
  }

  async events(query: EventQuery = {}): Promise<StoreEvent[]> {
    this.open();
    const all = this.journal.filter((e) => eventMatches(e, query));
    return all.slice(0, query.limit ?? all.length).map((e) => ({ ...e, data: jsonCopy(e.data) }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private find(status: VersionStatus): ConfigVersion | undefined {
    return this.versions.find((v) => v.status === status);
  }

  private demoteActive(to: VersionStatus): void {
    const current = this.find('active');
    if (current) current.status = to;
  }

  private push(event: NewEvent | undefined, version: number | null): StoreEvent | undefined {
    if (!event) return undefined;
    const e: StoreEvent = { id: this.journal.length + 1, time: event.time ?? this.now(), type: event.type, version: event.version !== undefined ? event.version : version, data: jsonCopy(event.data ?? {}) };
    this.journal.push(e);
    return { ...e, data: jsonCopy(e.data) };
  }

  private copy(v: ConfigVersion | undefined): ConfigVersion | undefined {
    return v ? { ...v } : undefined;
  }

  private open(): void {
    if (this.closed) throw new StoreError('the store is closed');
  }
}

// Through JSON, like the SQLite column: what a caller gets back is what any store would give.
function jsonCopy(data: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
}
