import type { Connection, DomainHandle, JobContext, NetworkHandle, StoragePoolHandle, StorageVolHandle } from '@virtkit/core';
import type { ParsedOptions } from './parse.js';
import type { Output } from './output.js';
import type { Session } from './session.js';

export interface OptionDef {
  name: string;
  /** `bool` flags, `string`/`int` values, `argv` takes every remaining word. */
  type: 'bool' | 'string' | 'int' | 'argv';
  help: string;
  required?: boolean;
  /** May be given without its `--name` (in declaration order). */
  positional?: boolean;
  aliases?: string[];
}

export interface CommandDef {
  name: string;
  aliases?: string[];
  /** Help group (`Domain Management`, `Networking`, …). */
  group: string;
  summary: string;
  description?: string;
  options: OptionDef[];
  /** Option names of which at most one may be given. */
  exclusive?: string[][];
  /** Commands such as `help`, `quit`, `connect` run without opening the connection. */
  noConnect?: boolean;
  /** No blank line after the output (virsh's `echo`). */
  noBlankAfter?: boolean;
  /** Returns false (or throws) on failure. */
  run(ctx: CommandContext): Promise<boolean | void>;
}

export interface CommandContext {
  readonly cmd: CommandDef;
  readonly opts: ParsedOptions;
  readonly session: Session;
  readonly out: Output;
  /** Whether `--json` was given. */
  readonly json: boolean;
  conn(): Promise<Connection>;
  /** The domain named by an option (id, UUID or name), as virsh resolves it. */
  domain(option?: string): Promise<DomainHandle>;
  network(option?: string): Promise<NetworkHandle>;
  pool(option?: string): Promise<StoragePoolHandle>;
  /** A volume by `--pool` + name, or by key or path. */
  volume(option?: string, poolOption?: string): Promise<StorageVolHandle>;
  /** Progress and Ctrl-C cancellation for a long job; call `done()` when it ends. */
  job(label: string): JobContext & { done(): void };
}

/** Options most listing and info commands share. */
export const JSON_OPTION: OptionDef = { name: 'json', type: 'bool', help: 'print one JSON document instead of text' };

export function domainOption(help = 'domain name, id or uuid'): OptionDef {
  return { name: 'domain', type: 'string', required: true, positional: true, help };
}

/**
 * virsh's two-line failure report: what the command could not do
 * (`Failed to start domain 'x'`), then the driver's reason, each on its own
 * `error:` line. Scripts that grep virsh's output find the same lines.
 */
export class CommandFailure extends Error {
  constructor(
    readonly what: string,
    readonly reason: unknown,
  ) {
    super(what);
  }
}

/** Awaits a driver call whose failure virsh reports as `what`, then the reason. */
export async function failingAs<T>(what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw new CommandFailure(what, err);
  }
}
