/**
 * sysvinit's control FIFO: asking a container's init to change runlevel
 * (0 = power off, 6 = reboot), libvirt's "initctl" shutdown mode. The FIFO
 * is reached through /proc/PID/root; one that is the host's own (a
 * container without its own root) is never written.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';

const FIFOS = ['/run/initctl', '/dev/initctl', '/etc/.initctl', '/usr/lib/sysvinit/.initctl'];
const INIT_MAGIC = 0x03091969;
const INIT_CMD_RUNLVL = 1;

/** The 384-byte `struct init_request` for a runlevel change. */
export function initRequest(runlevel: '0' | '6'): Buffer {
  const b = Buffer.alloc(384);
  b.writeInt32LE(INIT_MAGIC, 0);
  b.writeInt32LE(INIT_CMD_RUNLVL, 4);
  b.writeInt32LE(runlevel.charCodeAt(0), 8);
  return b;
}

/** Sends a runlevel change to the init of `initPid`; false when it has no initctl FIFO (or no reader). */
export async function setContainerRunlevel(initPid: number, runlevel: '0' | '6'): Promise<boolean> {
  for (const fifo of FIFOS) {
    const path = join(`/proc/${initPid}/root`, fifo);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFIFO()) continue;
    const host = await stat(fifo).catch(() => undefined);
    if (host && host.dev === st.dev && host.ino === st.ino) continue;
    try {
      const fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        await fh.write(initRequest(runlevel));
      } finally {
        await fh.close();
      }
      return true;
    } catch {
      continue;
    }
  }
  return false;
}
