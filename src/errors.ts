/**
 * Every error evenkeel throws on purpose, each with a stable `code`. Codes are never reused.
 * Imports nothing, so every layer can depend on it.
 */

/** Base class: a stable code and an exit code for the CLI. */
export class EvenkeelError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A file (config, sample, suite) could not be read at all: missing, unreadable, a directory. Exit 2. */
export class FileReadError extends EvenkeelError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('EK_E_FILE_READ', `cannot read ${file}: ${reason}`, 2, options);
    this.file = file;
  }
}

/** Bad flags or arguments on the command line. Exit 2. */
export class UsageError extends EvenkeelError {
  constructor(message: string) {
    super('EK_E_USAGE', message, 2);
  }
}

/** A duration string such as `500ms` or `5m` could not be parsed. */
export class DurationError extends EvenkeelError {
  constructor(input: string) {
    super('EK_E_DURATION', `invalid duration ${JSON.stringify(input)}: expected a number and a unit (ms, s, m, h), e.g. 500ms or 2s`);
  }
}

/** An address could not be parsed as host:port. */
export class AddressError extends EvenkeelError {
  constructor(input: string, reason: string) {
    super('EK_E_ADDRESS', `invalid address ${JSON.stringify(input)}: ${reason}`);
  }
}

/** A config test suite is malformed (not a failed assertion: those are results). */
export class SuiteError extends EvenkeelError {
  constructor(message: string) {
    super('EK_E_SUITE', message, 1);
  }
}

/** Every code above, pinned by a test so none is renamed or reused silently. */
export const ERROR_CODES = ['EK_E_FILE_READ', 'EK_E_USAGE', 'EK_E_DURATION', 'EK_E_ADDRESS', 'EK_E_SUITE'] as const;
