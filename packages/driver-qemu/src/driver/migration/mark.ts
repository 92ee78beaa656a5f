import { readProcStat } from '../../process/proc.js';
import type { MigrationMark } from '../record.js';

let ownStart: Promise<number> | undefined;

/** A migration mark owned by this process. */
export async function ownMark(role: MigrationMark['role'], extra: Partial<MigrationMark> = {}): Promise<MigrationMark> {
  ownStart ??= Promise.resolve(readProcStat(process.pid)?.startTicks ?? 0);
  return { role, ownerPid: process.pid, ownerStartTime: await ownStart, startedAt: Date.now(), ...extra };
}

/** Whether the process that owns a mark still runs (the same process: pid and start time). */
export async function markOwnerAlive(m: MigrationMark): Promise<boolean> {
  if (m.ownerPid === process.pid) return true;
  const st = await readProcStat(m.ownerPid);
  return !!st && st.state !== 'Z' && st.state !== 'X' && st.startTicks === m.ownerStartTime;
}
