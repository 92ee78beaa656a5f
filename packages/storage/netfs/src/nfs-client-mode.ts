import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { VirtError, poolOption, type StoragePoolDef } from '@virtkit/core';

/**
 * How a netfs pool reaches its NFS export, a pool option:
 *
 *   <virtkit:options xmlns:virtkit='http://virtkit.dev/schemas/storagepool/1.0'>
 *     <virtkit:option name='client' value='auto'/>   <!-- kernel | userspace | auto (default) -->
 *   </virtkit:options>
 *
 * `kernel` mounts the export on the target path (libvirt's way); volumes
 * are files there. `userspace` mounts nothing: the pool talks NFSv3
 * itself for listing and metadata, QEMU (libnfs) reads and writes the
 * images, and volumes are `network` volumes with `nfs://host/export/vol`
 * paths. `auto` picks the kernel where this host can mount NFS, else user
 * space. GlusterFS and CIFS shares need the kernel.
 */
export type NfsClientMode = 'kernel' | 'userspace';

/** Whether this host's kernel can mount NFS: the file system is registered or its module is installed, and mount.nfs exists. */
export function kernelCanMountNfs(): boolean {
  const helper = ['/sbin/mount.nfs', '/usr/sbin/mount.nfs'].some((p) => existsSync(p));
  if (!helper) return false;
  try {
    if (/\tnfs4?$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return true;
  } catch {
    // fall through to the modules
  }
  try {
    const dir = `/lib/modules/${release()}/kernel/fs/nfs`;
    return readdirSync(dir).some((f) => /^nfs(v[34])?\.ko/.test(f));
  } catch {
    return false;
  }
}

/** The client a pool uses, `auto` resolved against this host. */
export function nfsClientMode(pool: StoragePoolDef, kernelCan: () => boolean = kernelCanMountNfs): NfsClientMode {
  const v = poolOption(pool, 'client', ['kernel', 'userspace', 'auto'] as const, 'auto');
  const format = pool.source.format ?? 'auto';
  const nfs = format === 'auto' || format === 'nfs';
  if (v === 'userspace' && !nfs) {
    throw new VirtError('CONFIG_UNSUPPORTED', `storage pool '${pool.name}': a '${format}' share can only be mounted by the kernel`, { origin: 'storage.netfs' });
  }
  if (v !== 'auto') return v;
  return !nfs || kernelCan() ? 'kernel' : 'userspace';
}
