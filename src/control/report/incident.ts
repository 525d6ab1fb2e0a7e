/**
 * Incidents from the journal: one opens when a monitor fires while nothing else is firing,
 * and closes when the last of its alerts resolves. Alert events pair by `data.id` (the
 * monitor transition's id), so overlapping alerts make one incident.
 */
import type { StoreEvent } from '../store/index.js';

/** One incident: the span from its first firing to its last resolution. */
export interface Incident {
  /** `I` and the id of the opening alert.fired event: stable, and printable in `report --incident`. */
  id: string;
  start: number;
  /** null while an alert is still firing. */
  end: number | null;
  /** The alert.fired events, in order. */
  fired: StoreEvent[];
  /** The alert.resolved events, in order. */
  resolved: StoreEvent[];
}

/** The alert id an alert event carries (falls back to the event id so unpaired events still count). */
export function alertId(e: StoreEvent): string {
  return typeof e.data.id === 'string' ? e.data.id : `event-${e.id}`;
}

/** Every incident in `events` (any order), oldest first. */
export function findIncidents(events: readonly StoreEvent[]): Incident[] {
  const sorted = [...events].sort((a, b) => a.time - b.time || a.id - b.id);
  const out: Incident[] = [];
  const open = new Set<string>();
  let current: Incident | undefined;
  for (const e of sorted) {
    if (e.type === 'alert.fired') {
      if (!current) out.push((current = { id: `I${e.id}`, start: e.time, end: null, fired: [], resolved: [] }));
      current.fired.push(e);
      open.add(alertId(e));
    } else if (e.type === 'alert.resolved' && current && open.delete(alertId(e))) {
      current.resolved.push(e);
      if (open.size === 0) {
        current.end = e.time;
        current = undefined;
      }
    }
  }
  return out;
}
