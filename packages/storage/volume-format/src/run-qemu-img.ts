import { spawn } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { VirtError, formatCommandLine } from '@virtkit/core';

/** Progress of a long job, as virtkit reports it everywhere: bytes (or percent units) done of a total. */
export interface JobProgress {
  processed: number;
  total: number;
}

export type ProgressSource =
  /** Parse the `(NN.NN/100%)` lines of `qemu-img … -p` (processed/total in hundredths of a percent). */
  | { kind: 'qemu-img' }
  /** Poll the space allocated to a file against an expected total in bytes. */
  | { kind: 'file-size'; path: string; total: number; intervalMs?: number };

export interface RunQemuImgOptions {
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  progress?: ProgressSource;
  /** Removed when the command fails or is cancelled: what it may have half-made. */
  cleanupPaths?: readonly string[];
  /** How long a cancelled child gets after SIGTERM before SIGKILL. */
  killGraceMs?: number;
}

export interface QemuImgResult {
  stdout: string;
  stderr: string;
}

const PROGRESS_RE = /\(\s*([0-9]+(?:\.[0-9]+)?)\/100%\)/g;

/** Adds qemu-img's -p (progress) to a convert command, right after the subcommand. */
export function withProgressFlag(argv: readonly string[]): string[] {
  const i = argv.indexOf('convert');
  if (i < 0 || argv.includes('-p')) return [...argv];
  return [...argv.slice(0, i + 1), '-p', ...argv.slice(i + 1)];
}

async function allocatedBytes(path: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    return st.blocks * 512;
  } catch {
    return undefined;
  }
}

async function removeAll(paths: readonly string[] | undefined): Promise<void> {
  for (const p of paths ?? []) await rm(p, { recursive: true, force: true }).catch(() => {});
}

function abortedError(argv: readonly string[]): VirtError {
  return new VirtError('OPERATION_ABORTED', `${argv[0]} ${argv[1] ?? ''}: operation was cancelled`.trim(), { origin: 'storage' });
}

/**
 * Runs qemu-img (or any argv) without a shell. Reports progress, and on
 * cancellation kills the child, waits for it, removes `cleanupPaths` and
 * rejects with OPERATION_ABORTED; on failure removes them too and rejects
 * with OPERATION_FAILED carrying qemu-img's message.
 */
export async function runQemuImg(argv: readonly string[], opts: RunQemuImgOptions = {}): Promise<QemuImgResult> {
  if (argv.length === 0) throw new VirtError('INVALID_ARG', 'qemu-img: empty command', { origin: 'storage' });
  const { signal } = opts;
  if (signal?.aborted) {
    await removeAll(opts.cleanupPaths);
    throw abortedError(argv);
  }
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let lastPercent = -1;
  const report = (p: JobProgress) => {
    try {
      opts.onProgress?.(p);
    } catch {
      // A failing progress listener must not break the job.
    }
  };

  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  let pending = '';
  child.stdout.on('data', (chunk: string) => {
    if (opts.progress?.kind === 'qemu-img') {
      // Progress lines end in '\r'; a chunk may stop in the middle of one.
      const text = pending + chunk;
      const cut = text.lastIndexOf('\r') + 1;
      pending = text.slice(cut);
      for (const m of text.slice(0, cut).matchAll(PROGRESS_RE)) {
        const hundredths = Math.round(Number(m[1]) * 100);
        if (hundredths !== lastPercent) {
          lastPercent = hundredths;
          report({ processed: hundredths, total: 10000 });
        }
      }
      chunk = text.slice(0, cut).replace(/\s*\(\s*[0-9.]+\/100%\)\r?/g, '');
      if (pending.length > 4096) {
        chunk += pending;
        pending = '';
      }
    }
    if (stdout.length < 1 << 20) stdout += chunk;
  });
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 1 << 20) stderr += chunk;
  });

  let timer: NodeJS.Timeout | undefined;
  const poll = opts.progress?.kind === 'file-size' ? opts.progress : undefined;
  if (poll && opts.onProgress) {
    timer = setInterval(() => {
      void allocatedBytes(poll.path).then((n) => {
        if (n !== undefined) report({ processed: Math.min(n, poll.total), total: poll.total });
      });
    }, poll.intervalMs ?? 250);
  }

  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    aborted = true;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 2000);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const outcome = await new Promise<{ code: number | null; sig: NodeJS.Signals | null; err?: Error }>((resolve) => {
    child.once('error', (err) => resolve({ code: null, sig: null, err }));
    child.once('close', (code, sig) => resolve({ code, sig }));
  });
  signal?.removeEventListener('abort', onAbort);
  if (pending) stdout += pending;
  if (timer) clearInterval(timer);
  if (killTimer) clearTimeout(killTimer);

  if (aborted) {
    await removeAll(opts.cleanupPaths);
    throw abortedError(argv);
  }
  if (outcome.err) {
    await removeAll(opts.cleanupPaths);
    throw new VirtError('SYSTEM_ERROR', `cannot run ${argv[0]}: ${outcome.err.message}`, { origin: 'storage', cause: outcome.err });
  }
  if (outcome.code !== 0) {
    await removeAll(opts.cleanupPaths);
    const why = outcome.sig ? `killed by signal ${outcome.sig}` : `exit status ${outcome.code}`;
    const msg = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
    throw new VirtError('OPERATION_FAILED', `${formatCommandLine(argv)}: ${why}${msg ? `: ${msg}` : ''}`, { origin: 'storage' });
  }
  if (poll) report({ processed: poll.total, total: poll.total });
  else if (opts.progress?.kind === 'qemu-img' && lastPercent !== 10000) report({ processed: 10000, total: 10000 });
  return { stdout, stderr };
}
