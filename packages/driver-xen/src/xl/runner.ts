/**
 * Runs the `xl` toolstack command and turns its failures into VirtErrors:
 * xl reports unknown domains as "<x> is an invalid domain identifier" or
 * "Domain '<x>' does not exist" (NO_DOMAIN); anything else is
 * OPERATION_FAILED carrying xl's own last error line.
 */
import { execFile } from 'node:child_process';
import { VirtError } from '@virtkit/core';

export interface XlResult {
  stdout: string;
  stderr: string;
}

export interface XlRunnerOptions {
  /** The xl binary (absolute path or a name looked up in PATH). */
  path: string;
  /** Environment for xl (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Per-command timeout, ms (save, restore and migrate take long). */
  timeoutMs?: number;
}

const UNKNOWN_DOMAIN = [/is an invalid domain identifier/, /Domain '.*' does not exist/, /Non-existant domain/, /Non-existent domain/, /maybe this domain does not exist/];

/** The line of xl's stderr that says what went wrong (skips "Parsing config…" chatter). */
export function xlErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Parsing config from /.test(l));
  return lines.find((l) => /error|invalid|does not exist|not |fail|unknown|cannot/i.test(l)) ?? lines[lines.length - 1] ?? '';
}

export class XlRunner {
  readonly path: string;
  private readonly env: NodeJS.ProcessEnv | undefined;
  private readonly timeoutMs: number;

  constructor(opts: XlRunnerOptions) {
    this.path = opts.path;
    this.env = opts.env;
    this.timeoutMs = opts.timeoutMs ?? 600_000;
  }

  /** Runs `xl args…`; `what` names the object and action for error messages. */
  run(args: string[], what: string, opts: { timeoutMs?: number } = {}): Promise<XlResult> {
    return new Promise((resolve, reject) => {
      execFile(this.path, args, { env: this.env ?? process.env, timeout: opts.timeoutMs ?? this.timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) {
          resolve({ stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
        if (e.code === 'ENOENT' || e.code === 'EACCES') {
          reject(new VirtError('OPERATION_FAILED', `${what}: cannot run '${this.path}': ${e.message}`, { origin: 'xen', cause: err }));
          return;
        }
        if (e.killed) {
          reject(new VirtError('OPERATION_TIMEOUT', `${what}: 'xl ${args[0] ?? ''}' did not finish in time`, { origin: 'xen', cause: err }));
          return;
        }
        const line = xlErrorLine(stderr) || `exit status ${String(e.code)}`;
        const code = UNKNOWN_DOMAIN.some((re) => re.test(stderr)) ? 'NO_DOMAIN' : 'OPERATION_FAILED';
        // The cause carries xl's whole stderr for callers that want more than the one line.
        reject(new VirtError(code, `${what}: xl ${args[0] ?? ''} failed: ${line}`, { origin: 'xen', cause: new Error(stderr.trim() || line) }));
      });
    });
  }
}
