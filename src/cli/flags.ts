/** Command-line values that need parsing: a bad one is a usage error (exit 2) naming the flag. */
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../errors.js';

/** `--flag 10s` → 10000. */
export function durationFlag(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new UsageError(`${flag} ${value}: expected a duration such as 10s or 2m`);
  }
}
