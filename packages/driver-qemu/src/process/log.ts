import { open } from 'node:fs/promises';

/** The largest part of a log read back to explain an exit. */
const TAIL_BYTES = 16 * 1024;

/** A shell-quoted rendering of a command line, for the log header. */
export function quoteCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Reads what QEMU wrote to its log after `offset` (at most the last 16 KiB). */
export async function readLogSince(path: string, offset: number): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await fh.stat();
    const start = Math.max(offset, size - TAIL_BYTES, 0);
    if (size <= start) return '';
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** QEMU's ShutdownCause names, by their number in the `qemu_system_shutdown_request reason=N` trace. */
export const SHUTDOWN_CAUSES = [
  'none', 'host-error', 'host-qmp-quit', 'host-qmp-system-reset', 'host-signal', 'host-ui', 'guest-shutdown',
  'guest-reset', 'guest-panic', 'subsystem-reset', 'snapshot-load',
] as const;

/** The trace event virtkit turns on (`-trace qemu_system_shutdown_request`) so a shutdown leaves a line in the log. */
export const SHUTDOWN_TRACE_EVENT = 'qemu_system_shutdown_request';

export interface LogExitReason {
  /** `signal 15 from pid 123 (node)` style: QEMU was told to stop. */
  signal?: { number: number; fromPid?: number; fromName?: string };
  /**
   * The last shutdown request QEMU traced (needs `-trace qemu_system_shutdown_request`):
   * tells a guest power-off from a crash when nobody watched the monitor.
   */
  shutdownRequest?: { cause: string; guest: boolean };
  /** QEMU's own error lines (`qemu-system-x86_64: …`), newest last. */
  errors: string[];
  /** One line for messages. */
  summary: string;
}

/**
 * Explains a QEMU exit from its log: the "terminating on signal" line, or
 * the error lines QEMU printed (e.g. a bad -device), as libvirt's
 * qemuProcessReportLogError does.
 */
export function parseExitReason(logText: string): LogExitReason {
  const lines = logText.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  const errors: string[] = [];
  let signal: LogExitReason['signal'];
  let shutdownRequest: LogExitReason['shutdownRequest'];
  for (const line of lines) {
    const t = /qemu_system_shutdown_request reason=(\d+)/.exec(line);
    if (t) {
      const cause = SHUTDOWN_CAUSES[Number(t[1])] ?? `cause-${t[1]}`;
      shutdownRequest = { cause, guest: cause.startsWith('guest-') };
      continue;
    }
    const m = /terminating on signal (\d+)(?: from pid (\d+)(?: \(([^)]*)\))?)?/.exec(line);
    if (m) {
      signal = { number: Number(m[1]), fromPid: m[2] ? Number(m[2]) : undefined, fromName: m[3] || undefined };
      continue;
    }
    // Drop the header virtkit writes and QEMU's deprecation chatter.
    if (/^\d{4}-\d\d-\d\d[ T][\d:.]+.*: (starting up|shutting down)/.test(line)) continue;
    if (/^(LC_ALL|PATH|HOME)=/.test(line)) continue;
    const text = line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z? /, '');
    if (/: warning: /.test(text)) continue;
    // Informational lines QEMU prints while running (pty chardevs, -msg timestamp noise).
    if (/char device redirected to /.test(text)) continue;
    errors.push(text);
  }
  let summary: string;
  if (errors.length > 0) summary = errors.slice(-3).join('; ');
  else if (signal) summary = `terminated by signal ${signal.number}${signal.fromPid ? ` from pid ${signal.fromPid}${signal.fromName ? ` (${signal.fromName})` : ''}` : ''}`;
  else summary = 'no error in the log';
  return { signal, errors, summary, ...(shutdownRequest ? { shutdownRequest } : {}) };
}
