/** Runs host tools (lxc-*, ip, nsenter) with argv arrays, never through a shell. */
import { spawn } from 'node:child_process';
import { VirtError } from '@virtkit/core';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Kill the child after this long (default 60 s). */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** What the command is for, in error messages. */
  what?: string;
  input?: string;
}

export const TOOL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Environment for host tools: ours, a PATH that finds sbin tools, C locale. */
export function toolEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env.PATH ?? ''}:${TOOL_PATH}`, LC_ALL: 'C' };
}

export function runCommand(argv: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const what = opts.what ?? argv.join(' ');
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: toolEnv() });
    } catch (err) {
      reject(new VirtError('SYSTEM_ERROR', `${what}: cannot run '${argv[0]}': ${(err as Error).message}`, { origin: 'lxc', cause: err }));
      return;
    }
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    timer.unref?.();
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => errOut.push(b));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new VirtError('SYSTEM_ERROR', `${what}: cannot run '${argv[0]}': ${err.message}`, { origin: 'lxc', cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const r = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() };
      if (timedOut) {
        reject(new VirtError('OPERATION_TIMEOUT', `${what}: '${argv[0]}' did not finish in ${opts.timeoutMs ?? 60_000} ms`, { origin: 'lxc' }));
        return;
      }
      if (r.code !== 0 && !opts.allowFailure) {
        const msg = r.stderr.trim().split('\n').slice(-3).join('; ') || r.stdout.trim().split('\n').slice(-1)[0] || `exit status ${r.code}`;
        reject(new VirtError('OPERATION_FAILED', `${what}: ${msg}`, { origin: 'lxc' }));
        return;
      }
      resolve(r);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
