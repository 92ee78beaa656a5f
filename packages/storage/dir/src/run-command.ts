import { spawn } from 'node:child_process';
import { VirtError, formatCommandLine } from '@virtkit/core';

export interface RunCommandOptions {
  signal?: AbortSignal;
  /** Written to the child's stdin, then closed. */
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
  /** Kill the child after this long (ms) and fail with OPERATION_TIMEOUT. */
  timeoutMs?: number;
  /** Resolve instead of rejecting when the exit status is not 0. */
  allowFailure?: boolean;
  /** `storage.logical`, … (the error's origin). */
  origin?: string;
  /** Names the object in error messages ("storage pool 'p'"). */
  what?: string;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

const MAX_OUTPUT = 8 << 20;

/**
 * Runs a command without a shell and collects its output. A missing
 * binary, a non-zero exit, a timeout and a cancellation each become a
 * VirtError that names the object and carries the tool's own message.
 */
export function runCommand(argv: readonly string[], o: RunCommandOptions = {}): Promise<CommandResult> {
  const origin = o.origin ?? 'storage';
  const what = o.what ? `${o.what}: ` : '';
  if (argv.length === 0) return Promise.reject(new VirtError('INVALID_ARG', `${what}empty command`, { origin }));
  if (o.signal?.aborted) return Promise.reject(new VirtError('OPERATION_ABORTED', `${what}${argv[0]}: operation was cancelled`, { origin }));
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [o.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, LVM_SUPPRESS_FD_WARNINGS: '1', LC_ALL: 'C', ...o.env },
    });
    let stdout = '';
    let stderr = '';
    let aborted = false;
    let timedOut = false;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += c;
    });
    child.stderr!.on('data', (c: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += c;
    });
    if (o.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(o.input);
    }
    const kill = () => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    };
    const onAbort = () => {
      aborted = true;
      kill();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = o.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          kill();
        }, o.timeoutMs)
      : undefined;
    const done = () => {
      o.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      done();
      const why = err.code === 'ENOENT' ? `${argv[0]} is not installed (not found on PATH)` : `cannot run ${argv[0]}: ${err.message}`;
      reject(new VirtError('SYSTEM_ERROR', `${what}${why}`, { origin, cause: err }));
    });
    child.once('close', (code, sig) => {
      done();
      if (aborted) return reject(new VirtError('OPERATION_ABORTED', `${what}${argv[0]}: operation was cancelled`, { origin }));
      if (timedOut) return reject(new VirtError('OPERATION_TIMEOUT', `${what}${formatCommandLine(argv)}: no answer within ${o.timeoutMs} ms`, { origin }));
      const status = code ?? 128;
      if (status !== 0 && !o.allowFailure) {
        // The tool's last real complaint: not warnings, not "Run `x --help'" hints.
        const msg =
          (stderr.trim() || stdout.trim())
            .split('\n')
            .filter((l) => l.trim() && !/^\s*WARNING:/.test(l) && !/^\s*Run `/.test(l))
            .pop()
            ?.trim() ?? '';
        const why = sig ? `killed by signal ${sig}` : `exit status ${status}`;
        return reject(new VirtError('OPERATION_FAILED', `${what}${formatCommandLine(argv)}: ${why}${msg ? `: ${msg}` : ''}`, { origin }));
      }
      resolve({ stdout, stderr, code: status });
    });
  });
}

/** Whether a program can be found on PATH (or is an executable path). */
export async function haveCommand(name: string): Promise<boolean> {
  const { access, constants } = await import('node:fs/promises');
  const { delimiter, join } = await import('node:path');
  if (name.includes('/')) return access(name, constants.X_OK).then(() => true, () => false);
  const dirs = (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
  for (const d of [...dirs, '/usr/sbin', '/sbin']) {
    if (await access(join(d, name), constants.X_OK).then(() => true, () => false)) return true;
  }
  return false;
}
