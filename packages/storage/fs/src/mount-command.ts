import { VirtError, type StoragePoolDef } from '@virtkit/core';

/**
 * mount/umount command lines of fs and netfs pools, as libvirt's
 * virStorageBackendFileSystemMountCmd builds them (storage_util.c).
 */

export interface MountCommandOptions {
  /** Decides libvirt's default mount options; default: this host's platform. */
  platform?: NodeJS.Platform;
  /** The mount binary (default 'mount', found on PATH when run). */
  mount?: string;
}

/** Options libvirt always mounts pools with: no devices, no setuid, no executables. */
export function defaultMountOptions(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'linux') return 'nodev,nosuid,noexec';
  if (platform === 'freebsd') return 'nosuid,noexec';
  return '';
}

function poolError(code: VirtError['code'], pool: StoragePoolDef, message: string): VirtError {
  return new VirtError(code, `storage pool '${pool.name}': ${message}`, { origin: 'storage.fs' });
}

/** virStorageBackendFileSystemIsValid: one host and a directory for netfs, one device for fs. */
export function checkMountablePool(pool: StoragePoolDef): void {
  if (pool.type === 'netfs') {
    if (pool.source.hosts.length !== 1) throw poolError('CONFIG_UNSUPPORTED', pool, 'expected exactly 1 host for the storage pool');
    if (pool.source.dir === undefined) throw poolError('INTERNAL_ERROR', pool, 'missing source path');
  } else if (pool.type === 'fs') {
    if (pool.source.devices.length === 0) throw poolError('INTERNAL_ERROR', pool, 'missing source device');
    if (pool.source.devices.length !== 1) throw poolError('CONFIG_UNSUPPORTED', pool, 'expected exactly 1 device for the storage pool');
  } else {
    throw poolError('NO_SUPPORT', pool, `a '${pool.type}' pool is not mounted`);
  }
  if (!pool.target?.path) throw poolError('XML_ERROR', pool, 'missing storage pool target path');
}

/** What is mounted: `host:dir` (NFS, GlusterFS), `//host/dir` (CIFS) or the device. */
export function poolMountSource(pool: StoragePoolDef): string {
  checkMountablePool(pool);
  if (pool.type === 'netfs') {
    const host = pool.source.hosts[0]!.name;
    return pool.source.format === 'cifs' ? `//${host}/${pool.source.dir}` : `${host}:${pool.source.dir}`;
  }
  return pool.source.devices[0]!.path;
}

function mountOptions(pool: StoragePoolDef, platform: NodeJS.Platform, provided: string | undefined): string[] {
  const opts: string[] = [];
  const defaults = defaultMountOptions(platform);
  if (defaults) opts.push(defaults);
  if (provided) opts.push(provided);
  for (const o of pool.mountOptions ?? []) opts.push(o);
  const joined = opts.join(',').replace(/,+$/, '');
  return joined ? ['-o', joined] : [];
}

/** The `mount` command that starts an fs or netfs pool. */
export function buildMountCommand(pool: StoragePoolDef, opts: MountCommandOptions = {}): string[] {
  const src = poolMountSource(pool);
  const platform = opts.platform ?? process.platform;
  const target = pool.target!.path;
  const format = pool.source.format ?? 'auto';
  const netfs = pool.type === 'netfs';
  const nfsVers = netfs && pool.source.protocolVer !== undefined ? `nfsvers=${pool.source.protocolVer}` : undefined;
  const cmd = [opts.mount ?? 'mount'];
  if (netfs && format === 'auto') {
    // 'mount -t auto' does not find nfs (or cifs) by itself while plain 'mount' does.
    cmd.push(...mountOptions(pool, platform, nfsVers), src, target);
  } else if (netfs && format === 'glusterfs') {
    cmd.push(...mountOptions(pool, platform, 'direct-io-mode=1'), '-t', format, src, target);
  } else if (netfs && format === 'cifs') {
    cmd.push(...mountOptions(pool, platform, 'guest'), '-t', format, src, target);
  } else {
    cmd.push(...mountOptions(pool, platform, nfsVers), '-t', format, src, target);
  }
  return cmd;
}

/** The `umount` command that stops an fs or netfs pool. */
export function buildUnmountCommand(pool: StoragePoolDef, opts: { umount?: string } = {}): string[] {
  checkMountablePool(pool);
  return [opts.umount ?? 'umount', pool.target!.path];
}

/** The command that starts an fs or netfs pool (its mount). */
export function buildPoolStartCommand(pool: StoragePoolDef, opts: MountCommandOptions = {}): string[] {
  if (pool.type !== 'fs' && pool.type !== 'netfs') {
    throw poolError('NO_SUPPORT', pool, `no start command for a '${pool.type}' pool in the fs backend`);
  }
  return buildMountCommand(pool, opts);
}
