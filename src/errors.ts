/**
 * Every error evenkeel throws on purpose, each with a stable `code`. Codes are never reused.
 * Imports nothing, so every layer can depend on it.
 */

/**
 * Base class. Each subclass names its code in a static `code`; its CLI exit code and HTTP
 * status come from `ERRORS` below, the one table, so no caller picks either on its own.
 */
export abstract class EvenkeelError extends Error {
  /** The stable code of this class (each subclass sets it). */
  static readonly code: string;
  readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = (new.target as unknown as { code: ErrorCode }).code;
  }

  /** The CLI's exit code for this error: 1 refused or invalid, 2 usage or environment. */
  get exitCode(): 1 | 2 {
    return ERRORS[this.code].exitCode;
  }

  /** The HTTP status the admin API and the proxy answer with. */
  get status(): number {
    return ERRORS[this.code].status;
  }
}

/** A file (config, sample, suite) could not be read at all: missing, unreadable, a directory. */
export class FileReadError extends EvenkeelError {
  static override readonly code = 'EK_E_FILE_READ';
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot read ${file}: ${reason}`, options);
    this.file = file;
  }
}

/** Bad flags or arguments on the command line. */
export class UsageError extends EvenkeelError {
  static override readonly code = 'EK_E_USAGE';
  constructor(message: string) {
    super(message);
  }
}

/** A duration string such as `500ms` or `5m` could not be parsed. */
export class DurationError extends EvenkeelError {
  static override readonly code = 'EK_E_DURATION';
  constructor(input: string) {
    super(`invalid duration ${JSON.stringify(input)}: expected a number and a unit (ms, s, m, h), e.g. 500ms or 2s`);
  }
}

/** An address could not be parsed as host:port. */
export class AddressError extends EvenkeelError {
  static override readonly code = 'EK_E_ADDRESS';
  constructor(input: string, reason: string) {
    super(`invalid address ${JSON.stringify(input)}: ${reason}`);
  }
}

/** A request body is larger than the listener's limits.maxBodyBytes: the proxy answers 413. */
export class BodyLimitError extends EvenkeelError {
  static override readonly code = 'EK_E_BODY_LIMIT';
  constructor(limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

/** A listener or the admin API could not bind its address (in use, not permitted). */
export class ListenError extends EvenkeelError {
  static override readonly code = 'EK_E_LISTEN';
  constructor(what: string, address: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot listen on ${address} for ${what}: ${reason}`, options);
  }
}

/** The admin API would be reachable from the network without a token file. */
export class AdminExposedError extends EvenkeelError {
  static override readonly code = 'EK_E_ADMIN_EXPOSED';
  constructor(address: string) {
    super(`admin.address ${address} is not a loopback address and admin.tokenFile is not set; set admin.tokenFile (a file holding the bearer token) or bind the admin API to 127.0.0.1`);
  }
}

/** The config store could not be opened or written (missing permissions, a corrupt file). */
export class StoreError extends EvenkeelError {
  static override readonly code = 'EK_E_STORE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A config version does not exist, or cannot move to the status asked for (e.g. activating a refused version). */
export class VersionStateError extends EvenkeelError {
  static override readonly code = 'EK_E_VERSION_STATE';
  constructor(message: string) {
    super(message);
  }
}

/** A config was refused (serve on an empty store with an invalid file). `findings` say why. */
export class ConfigRefusedError extends EvenkeelError {
  static override readonly code = 'EK_E_CONFIG_REFUSED';
  readonly findings: readonly unknown[];
  constructor(message: string, findings: readonly unknown[] = []) {
    super(message);
    this.findings = findings;
  }
}

/** No evenkeel instance answers at the admin address, or it answered with an error. */
export class InstanceError extends EvenkeelError {
  static override readonly code = 'EK_E_INSTANCE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A config canary cannot run for this change (the candidate listens elsewhere), or one is already running. */
export class CanaryError extends EvenkeelError {
  static override readonly code = 'EK_E_CANARY';
  constructor(message: string) {
    super(message);
  }
}

/**
 * The configured engine cannot serve: its binary is missing or too old, or it did not start.
 * Exit 2 (the environment, not the config). The message names the package to install.
 */
export class EngineError extends EvenkeelError {
  static override readonly code = 'EK_E_ENGINE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** `serve --pid-file` names a file that holds the pid of a live process, or cannot be written. Exit 2. */
export class PidFileError extends EvenkeelError {
  static override readonly code = 'EK_E_PID_FILE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One row of the catalogue: the class that throws the code, its CLI exit code, its HTTP status. */
export interface ErrorInfo {
  readonly error: abstract new (...args: never[]) => EvenkeelError;
  readonly exitCode: 1 | 2;
  readonly status: number;
}

/**
 * The catalogue: every code, the class that throws it, the CLI's exit code (1 refused or
 * invalid, 2 usage or environment) and the HTTP status the admin API and the proxy answer with.
 * A test derives the list from the classes and pins it; docs/errors.md describes each code.
 * Codes are never renamed or reused.
 */
export const ERRORS = {
  EK_E_FILE_READ: { error: FileReadError, exitCode: 2, status: 500 },
  EK_E_USAGE: { error: UsageError, exitCode: 2, status: 400 },
  EK_E_DURATION: { error: DurationError, exitCode: 1, status: 400 },
  EK_E_ADDRESS: { error: AddressError, exitCode: 1, status: 400 },
  EK_E_BODY_LIMIT: { error: BodyLimitError, exitCode: 1, status: 413 },
  EK_E_LISTEN: { error: ListenError, exitCode: 2, status: 500 },
  EK_E_ADMIN_EXPOSED: { error: AdminExposedError, exitCode: 2, status: 500 },
  EK_E_STORE: { error: StoreError, exitCode: 2, status: 500 },
  EK_E_VERSION_STATE: { error: VersionStateError, exitCode: 1, status: 409 },
  EK_E_CONFIG_REFUSED: { error: ConfigRefusedError, exitCode: 1, status: 409 },
  EK_E_INSTANCE: { error: InstanceError, exitCode: 2, status: 502 },
  EK_E_CANARY: { error: CanaryError, exitCode: 1, status: 409 },
  EK_E_ENGINE: { error: EngineError, exitCode: 2, status: 502 },
  EK_E_PID_FILE: { error: PidFileError, exitCode: 2, status: 500 },
} as const satisfies Record<string, ErrorInfo>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERRORS;

/** The HTTP status for any thrown value: the table's for evenkeel's errors, 500 for anything else (a bug). */
export function httpStatusOf(err: unknown): number {
  return err instanceof EvenkeelError ? err.status : 500;
}
