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

/** A request body is larger than the listener's limits.maxBodyBytes: the proxy answers 413. */
export class BodyLimitError extends EvenkeelError {
  constructor(limit: number) {
    super('EK_E_BODY_LIMIT', `request body is larger than ${limit} bytes`);
  }
}

/** A listener or the admin API could not bind its address (in use, not permitted). Exit 2. */
export class ListenError extends EvenkeelError {
  constructor(what: string, address: string, reason: string, options?: { cause?: unknown }) {
    super('EK_E_LISTEN', `cannot listen on ${address} for ${what}: ${reason}`, 2, options);
  }
}

/** The admin API would be reachable from the network without a token file. Exit 2. */
export class AdminExposedError extends EvenkeelError {
  constructor(address: string) {
    super('EK_E_ADMIN_EXPOSED', `admin.address ${address} is not a loopback address and admin.tokenFile is not set; set admin.tokenFile (a file holding the bearer token) or bind the admin API to 127.0.0.1`, 2);
  }
}

/** The config store could not be opened or written (missing permissions, a corrupt file). Exit 2. */
export class StoreError extends EvenkeelError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EK_E_STORE', message, 2, options);
  }
}

/** A config version does not exist, or cannot move to the status asked for (e.g. activating a refused version). */
export class VersionStateError extends EvenkeelError {
  constructor(message: string) {
    super('EK_E_VERSION_STATE', message, 1);
  }
}

/** A config was refused (serve on an empty store with an invalid file). Exit 1; `findings` say why. */
export class ConfigRefusedError extends EvenkeelError {
  readonly findings: readonly unknown[];
  constructor(message: string, findings: readonly unknown[] = []) {
    super('EK_E_CONFIG_REFUSED', message, 1);
    this.findings = findings;
  }
}

/** No evenkeel instance answers at the admin address, or it answered with an error. Exit 2. */
export class InstanceError extends EvenkeelError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EK_E_INSTANCE', message, 2, options);
  }
}

/** A config canary cannot run for this change (the candidate listens elsewhere), or one is already running. */
export class CanaryError extends EvenkeelError {
  constructor(message: string) {
    super('EK_E_CANARY', message, 1);
  }
}

/** `serve --pid-file` names a file that holds the pid of a live process, or cannot be written. Exit 2. */
export class PidFileError extends EvenkeelError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EK_E_PID_FILE', message, 2, options);
  }
}

/** Every code above, pinned by a test so none is renamed or reused silently. */
export const ERROR_CODES = ['EK_E_FILE_READ', 'EK_E_USAGE', 'EK_E_DURATION', 'EK_E_ADDRESS', 'EK_E_BODY_LIMIT', 'EK_E_LISTEN', 'EK_E_ADMIN_EXPOSED', 'EK_E_STORE', 'EK_E_VERSION_STATE', 'EK_E_CONFIG_REFUSED', 'EK_E_INSTANCE', 'EK_E_CANARY', 'EK_E_PID_FILE'] as const;
