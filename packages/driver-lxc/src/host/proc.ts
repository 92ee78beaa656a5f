/** Facts about host processes from /proc: parent, start time, whether a pid is still the process we started. */
import { readFile } from 'node:fs/promises';

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** Start time after boot, in clock ticks (field 22). */
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

export async function procStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and (when given) the same process as the one that started at `startTicks`. */
export async function sameProcessAlive(pid: number | undefined, startTicks?: number): Promise<boolean> {
  if (!pid || pid <= 0) return false;
  const st = await procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTicks === undefined || st.startTicks === startTicks;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until a process is gone (or `ms` pass); returns whether it is gone. */
export async function waitForExit(pid: number, startTicks: number | undefined, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  // Short polls first: a killed container's monitor is usually gone within milliseconds.
  for (let i = 0; ; i++) {
    if (!(await sameProcessAlive(pid, startTicks))) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, i < 50 ? 2 : 50));
  }
}
