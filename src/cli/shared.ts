/**
 * What the CLI's commands share: the exit-code holder, the default config file and the parsers
 * of flag values. A leaf: it imports no command and not main.ts, so commands never import each
 * other or the module that registers them (dependency-cruiser's no-circular rule checks it).
 */
import { userInfo } from 'node:os';
import { parseDuration } from '../core/index.js';
import type { Finding } from '../config/index.js';
import { UsageError } from '../errors.js';

/** Exit code set by a command's action (commander actions cannot return one). */
export interface CommandResult {
  exitCode: number;
}

/** What the admin API answers to a change (apply, and a drain or weight change). */
export interface ApplyReply {
  applied: boolean;
  forced: boolean;
  version?: number;
  active: number;
  findings: Finding[];
  error?: string;
  canary?: { version: number; percent: number; durationMs: number; until: string; maxDurationMs?: number; touched?: string[] };
  noCanary?: string;
  /** The text was the serving version's: nothing applied, nothing needed. */
  unchanged?: boolean;
}

/** The config file used when none is given. */
export const DEFAULT_CONFIG = 'evenkeel.yaml';

/** `--flag 10s` → 10000; a bad value is a usage error (exit 2) naming the flag. */
export function durationFlag(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new UsageError(`${flag} ${value}: expected a duration such as 10s or 2m`);
  }
}

/** An ISO time, or a duration meaning that long ago (`30m`). */
export function parseTime(v: string, flag: string): string {
  if (/^\d+(\.\d+)?(ms|s|m|h)$/.test(v)) {
    try {
      return new Date(Date.now() - parseDuration(v)).toISOString();
    } catch {
      // fall through
    }
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`${flag} ${v}: expected an ISO time (2025-01-31T14:00:00Z) or a duration ago (30m, 2h)`);
  return new Date(t).toISOString();
}

/** Who made a change, as recorded: --author, else the login name. */
export function author(flag: string | undefined): string {
  if (flag) return flag;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
