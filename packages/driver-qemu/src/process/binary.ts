import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { VirtError } from '@virtkit/core';

export const DEFAULT_QEMU_BINARY = 'qemu-system-x86_64';

/** Resolves a QEMU binary name through PATH (absolute paths are checked as they are). */
export async function findQemuBinary(name: string = DEFAULT_QEMU_BINARY, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = isAbsolute(name) || name.includes('/') ? [name] : (env.PATH ?? '/usr/bin:/bin').split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK); // a stat-like call: cheaper than a thread-pool round trip
      return c;
    } catch {
      // next
    }
  }
  throw new VirtError('NO_SUPPORT', `QEMU binary '${name}' not found${candidates.length > 1 ? ' in PATH' : ''} (install qemu-system-x86)`, { origin: 'qemu' });
}
