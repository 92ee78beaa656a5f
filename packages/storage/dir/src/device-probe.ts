import { runCommand } from './run-command.js';

/**
 * What blkid finds on a device or image: its file system, LVM label or
 * partition table type, or undefined when it is empty (libvirt's
 * virStorageBackendDeviceIsEmpty asks libblkid the same).
 */
export async function probeDeviceFormat(device: string): Promise<string | undefined> {
  const r = await runCommand(['blkid', '--probe', '--output', 'export', device], { allowFailure: true });
  if (r.code !== 0) return undefined;
  const m = /^(?:TYPE|PTTYPE)=(.+)$/m.exec(r.stdout);
  return m ? m[1]!.trim() : 'unknown';
}
