/**
 * Facts about host files that change the command line, probed the cheap
 * way (sysfs) instead of libvirt's ioctls.
 */
import { accessSync, constants, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';

/** virFileIsCDROM: the block device is an optical drive (SCSI peripheral type 5). */
export function isCdromDevice(path: string): boolean {
  try {
    const dev = basename(realpathSync(path));
    return readFileSync(`/sys/class/block/${dev}/device/type`, 'utf8').trim() === '5';
  } catch {
    return false;
  }
}

/** virHostGetDRMRenderNode: the first DRM render node (/dev/dri/renderD*). */
export function hostDrmRenderNode(): string | undefined {
  try {
    const nodes = readdirSync('/dev/dri').filter((n) => n.startsWith('renderD')).sort();
    return nodes[0] ? `/dev/dri/${nodes[0]}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * virSCSIDeviceGetSgName: the SCSI generic node (sgN) of a host SCSI device
 * given as adapter ("scsi_host3") and bus:target:unit, found in sysfs.
 */
export function scsiGenericName(adapter: string, bus: number, target: number, unit: number): string | undefined {
  const host = /^scsi_host(\d+)$/.exec(adapter)?.[1];
  if (host === undefined) return undefined;
  try {
    return readdirSync(`/sys/bus/scsi/devices/${host}:${bus}:${target}:${unit}/scsi_generic`)[0];
  } catch {
    return undefined;
  }
}

/** Whether QEMU may open /dev/vhost-net itself (libvirt falls back to userspace virtio-net when it cannot). */
export function canOpenVhostNet(): boolean {
  try {
    accessSync('/dev/vhost-net', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
