/** Waiting for host processes to end (the /proc facts themselves come from core). */

import { processAlive } from '@virtkit/core';

/** Waits until a process is gone (or `ms` pass); returns whether it is gone. */
export async function waitForExit(pid: number, startTicks: number | undefined, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  // Short polls first: a killed container's monitor is usually gone within milliseconds.
  for (let i = 0; ; i++) {
    if (!processAlive(pid, startTicks)) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, i < 50 ? 2 : 50));
  }
}
