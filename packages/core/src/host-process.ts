import { readFileSync } from 'node:fs';

/**
 * Facts about host processes from /proc, the one place drivers, locks and
 * job markers ask whether a recorded pid is still the process they knew.
 * /proc is read synchronously: the kernel makes its files on read, in
 * microseconds, less than a thread-pool round trip of the promise version.
 */
export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), T, X, … */
  state: string;
  ppid: number;
  /** Clock ticks after boot when the process started (field 22): with the pid, it names one process for good. */
  startTicks: number;
}

/** Parses /proc/PID/stat (the command name may hold blanks and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19].
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    startTicks: Number(rest[19]),
  };
}

export function readProcStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The argv of a process; undefined when it is gone, a zombie or a kernel thread. */
export function readProcCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a living process (a zombie counts as dead: where pid 1
 * does not reap, a dead owner would otherwise look alive forever), and,
 * when `startTicks` is given, still the same process.
 */
export function processAlive(pid: number | undefined, startTicks?: number): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  const st = readProcStat(pid);
  if (!st) {
    // No /proc entry to read (another mount namespace, hidepid): fall back to a signal probe.
    try {
      process.kill(pid, 0);
      return startTicks === undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' && startTicks === undefined;
    }
  }
  if (st.state === 'Z' || st.state === 'X') return false;
  return startTicks === undefined || st.startTicks === startTicks;
}

/** Sends a signal; false when the process is already gone. */
export function sendSignal(pid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
