import { VirtError, type StoragePoolDef } from '@virtkit/core';

/**
 * vgchange command lines of logical pools, as libvirt's
 * virStorageBackendLogicalChangeCmd builds them: the pool's volume group
 * (its source name) is activated on start and deactivated on stop.
 */
export interface VgchangeCommandOptions {
  /** The vgchange binary (default 'vgchange', found on PATH when run). */
  vgchange?: string;
}

function checkLogical(pool: StoragePoolDef): string {
  if (pool.type !== 'logical') {
    throw new VirtError('NO_SUPPORT', `storage pool '${pool.name}': no vgchange command for a '${pool.type}' pool`, { origin: 'storage.logical' });
  }
  const vg = pool.source.name;
  if (!vg) throw new VirtError('XML_ERROR', `storage pool '${pool.name}': missing volume group name`, { origin: 'storage.logical' });
  return vg;
}

/** `vgchange -aly VG` (activate) or `vgchange -aln VG` (deactivate). */
export function buildVgchangeCommand(pool: StoragePoolDef, activate: boolean, opts: VgchangeCommandOptions = {}): string[] {
  const vg = checkLogical(pool);
  return [opts.vgchange ?? 'vgchange', activate ? '-aly' : '-aln', vg];
}

/** The command that starts a logical pool. */
export function buildPoolStartCommand(pool: StoragePoolDef, opts: VgchangeCommandOptions = {}): string[] {
  return buildVgchangeCommand(pool, true, opts);
}

/** The command that stops a logical pool. */
export function buildPoolStopCommand(pool: StoragePoolDef, opts: VgchangeCommandOptions = {}): string[] {
  return buildVgchangeCommand(pool, false, opts);
}
