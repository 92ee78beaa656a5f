/**
 * The one error type of virtkit. Codes are stable strings modelled on
 * libvirt's virErrorNumber; the list is append-only so scripts and remote
 * peers can rely on them. Tests assert on codes, never on wording.
 */
export const ERROR_CODES = [
  'INTERNAL_ERROR',
  'NO_SUPPORT',
  'NO_CONNECT',
  'INVALID_CONN',
  'INVALID_ARG',
  'OPERATION_FAILED',
  'OPERATION_INVALID',
  'OPERATION_DENIED',
  'OPERATION_TIMEOUT',
  'OPERATION_ABORTED',
  'XML_ERROR',
  'XML_DETAIL',
  'CONFIG_UNSUPPORTED',
  'CONF_SYNTAX',
  'PARSE_FAILED',
  'NO_DOMAIN',
  'DOM_EXIST',
  'NO_NETWORK',
  'NETWORK_EXIST',
  'NO_STORAGE_POOL',
  'STORAGE_POOL_BUILT',
  'NO_STORAGE_VOL',
  'STORAGE_VOL_EXIST',
  'NO_INTERFACE',
  'NO_SECRET',
  'AUTH_FAILED',
  'AUTH_CANCELLED',
  'ACCESS_DENIED',
  'SYSTEM_ERROR',
  'RESOURCE_BUSY',
  'RPC',
  'NO_DEVICE',
  'ARGUMENT_UNSUPPORTED',
  'MIGRATE_UNSAFE',
  'AGENT_UNRESPONSIVE',
  'NO_DOMAIN_SNAPSHOT',
  'INVALID_STREAM',
  'OPEN_FAILED',
  'READ_FAILED',
  'WRITE_FAILED',
  'CPU_INCOMPATIBLE',
  'INVALID_MAC',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export interface VirtErrorJSON {
  name: 'VirtError';
  code: ErrorCode;
  message: string;
  origin: string;
  cause?: VirtErrorJSON | { name: string; message: string; code?: string };
}

export interface VirtErrorOptions {
  /** Which driver or subsystem raised it (`qemu`, `xml`, `storage.dir`, `remote`, …). */
  origin?: string;
  cause?: unknown;
}

export class VirtError extends Error {
  override readonly name = 'VirtError';
  readonly code: ErrorCode;
  readonly origin: string;

  constructor(code: ErrorCode, message: string, options: VirtErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.origin = options.origin ?? 'core';
  }

  toJSON(): VirtErrorJSON {
    const json: VirtErrorJSON = { name: 'VirtError', code: this.code, message: this.message, origin: this.origin };
    const cause = this.cause;
    if (cause instanceof VirtError) json.cause = cause.toJSON();
    else if (cause instanceof Error) {
      const c: { name: string; message: string; code?: string } = { name: cause.name, message: cause.message };
      const errno = (cause as NodeJS.ErrnoException).code;
      if (typeof errno === 'string') c.code = errno;
      json.cause = c;
    }
    return json;
  }

  static fromJSON(json: unknown): VirtError {
    if (!json || typeof json !== 'object') return new VirtError('INTERNAL_ERROR', 'malformed error received');
    const j = json as Partial<VirtErrorJSON>;
    const code = typeof j.code === 'string' && KNOWN_CODES.has(j.code) ? (j.code as ErrorCode) : 'INTERNAL_ERROR';
    let cause: unknown;
    if (j.cause && typeof j.cause === 'object') {
      if ((j.cause as { name?: string }).name === 'VirtError') cause = VirtError.fromJSON(j.cause);
      else {
        const e = new Error(String((j.cause as { message?: unknown }).message ?? ''));
        e.name = String((j.cause as { name?: unknown }).name ?? 'Error');
        const c = (j.cause as { code?: unknown }).code;
        if (typeof c === 'string') (e as NodeJS.ErrnoException).code = c;
        cause = e;
      }
    }
    return new VirtError(code, typeof j.message === 'string' ? j.message : 'unknown error', {
      origin: typeof j.origin === 'string' ? j.origin : 'remote',
      cause,
    });
  }

  static is(err: unknown, code?: ErrorCode): err is VirtError {
    return err instanceof VirtError && (code === undefined || err.code === code);
  }
}

/** The words libvirt puts before an error's details for its code (virErrorMsg), where it has them. */
const LIBVIRT_PREFIXES: Partial<Record<ErrorCode, string>> = {
  INTERNAL_ERROR: 'internal error',
  NO_SUPPORT: 'this function is not supported by the connection driver',
  INVALID_ARG: 'invalid argument',
  OPERATION_FAILED: 'operation failed',
  OPERATION_INVALID: 'Requested operation is not valid',
  OPERATION_DENIED: 'operation forbidden',
  OPERATION_TIMEOUT: 'Timed out during operation',
  OPERATION_ABORTED: 'operation aborted',
  XML_ERROR: 'XML error',
  CONFIG_UNSUPPORTED: 'unsupported configuration',
  CONF_SYNTAX: 'configuration file syntax error',
  NO_DOMAIN: 'Domain not found',
  NO_NETWORK: 'Network not found',
  NO_STORAGE_POOL: 'Storage pool not found',
  NO_STORAGE_VOL: 'Storage volume not found',
  NO_INTERFACE: 'Interface not found',
  NO_SECRET: 'Secret not found',
  NO_DOMAIN_SNAPSHOT: 'Domain snapshot not found',
  STORAGE_POOL_BUILT: 'Storage pool already built',
  AUTH_FAILED: 'authentication failed',
  AUTH_CANCELLED: 'authentication cancelled',
  ACCESS_DENIED: 'access denied',
  RESOURCE_BUSY: 'resource busy',
  ARGUMENT_UNSUPPORTED: 'argument unsupported',
  MIGRATE_UNSAFE: 'Unsafe migration',
  AGENT_UNRESPONSIVE: 'Guest agent is not responding',
  INVALID_MAC: 'invalid MAC address',
};

/**
 * An error as libvirt words it for its code, `Requested operation is not
 * valid: domain 'x' is not running`: what virsh prints, for tools that
 * compare. A message that already starts with the words keeps them once.
 */
export function libvirtErrorText(err: VirtError): string {
  const prefix = LIBVIRT_PREFIXES[err.code];
  if (!prefix || err.message.toLowerCase().startsWith(prefix.toLowerCase())) return err.message;
  return `${prefix}: ${err.message}`;
}

/**
 * Wraps a failure of a system call or a child process into a VirtError that
 * names the object, keeping the original as `cause`.
 */
export function systemError(what: string, err: unknown, origin?: string): VirtError {
  if (err instanceof VirtError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new VirtError('SYSTEM_ERROR', `${what}: ${msg}`, { origin, cause: err });
}
