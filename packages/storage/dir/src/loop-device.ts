import { stat } from 'node:fs/promises';
import { runCommand } from './run-command.js';

/**
 * Loop devices for pools whose source is an image file rather than a
 * device (`fs` on a file, `logical` on files): attached when the pool
 * starts, detached when it stops, through losetup(8).
 */
export async function attachLoopDevice(file: string, o: { readOnly?: boolean; signal?: AbortSignal; what?: string } = {}): Promise<string> {
  const argv = ['losetup', '--find', '--show', ...(o.readOnly ? ['--read-only'] : []), file];
  const { stdout } = await runCommand(argv, { ...(o.signal ? { signal: o.signal } : {}), ...(o.what ? { what: o.what } : {}) });
  return stdout.trim();
}

export async function detachLoopDevice(device: string, o: { what?: string } = {}): Promise<void> {
  await runCommand(['losetup', '--detach', device], { ...(o.what ? { what: o.what } : {}) });
}

/** Loop devices currently backed by a file. */
export async function loopDevicesOf(file: string): Promise<string[]> {
  const { stdout } = await runCommand(['losetup', '--list', '--noheadings', '--output', 'NAME', '--associated', file], { allowFailure: true });
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Whether a path is a regular file (an image to attach) rather than a device. */
export async function isRegularFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
