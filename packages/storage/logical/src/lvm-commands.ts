import { readFileSync } from 'node:fs';
import { VirtError, poolOption, type StoragePoolDef, type StorageVolDef } from '@virtkit/core';

/**
 * The LVM command lines of a logical pool, as libvirt's
 * storage_backend_logical.c builds them, plus the one virtkit setting:
 * whether LVM may activate volumes (device-mapper). Where there is no
 * device-mapper (containers, this CI), activation is off: LVM metadata is
 * still created, resized and removed for real, every command runs with
 * `--config 'global { activation = 0 }'`, and volume data is reached
 * through the volumes' extents on the physical volumes.
 *
 * The pool option, in the pool XML:
 *
 *   <virtkit:options xmlns:virtkit='http://virtkit.dev/schemas/storagepool/1.0'>
 *     <virtkit:option name='activation' value='no'/>   <!-- yes | no | auto (default) -->
 *   </virtkit:options>
 */
export type LvmActivation = 'yes' | 'no' | 'auto';

/**
 * Whether this kernel has device-mapper (what `auto` decides on): its
 * misc device is registered. /dev/mapper/control alone proves nothing,
 * libdevmapper creates that node even where the kernel has no driver.
 */
export function hostHasDeviceMapper(): boolean {
  try {
    return /^\s*[0-9]+ device-mapper$/m.test(readFileSync('/proc/misc', 'utf8'));
  } catch {
    return false;
  }
}

/** The pool's activation setting, `auto` resolved against this host. */
export function activationEnabled(pool: StoragePoolDef, hasDm: () => boolean = hostHasDeviceMapper): boolean {
  const v = poolOption(pool, 'activation', ['yes', 'no', 'auto'] as const, 'auto');
  return v === 'auto' ? hasDm() : v === 'yes';
}

/** The extra arguments every LVM command of a pool gets. */
export function lvmConfigArgs(activation: boolean): string[] {
  return activation ? [] : ['--config', 'global { activation = 0 }'];
}

export function vgName(pool: StoragePoolDef): string {
  const vg = pool.source.name;
  if (!vg) throw new VirtError('XML_ERROR', `storage pool '${pool.name}': missing volume group name`, { origin: 'storage.logical' });
  return vg;
}

const kib = (n: bigint) => `${(n + 1023n) / 1024n}K`;

/** `lvcreate` of a new volume (virStorageBackendLogicalLVCreate); without activation: inactive, not zeroed. */
export function buildLvcreateCommand(pool: StoragePoolDef, vol: StorageVolDef, activation: boolean): string[] {
  const cmd = ['lvcreate', ...lvmConfigArgs(activation), '--name', vol.name];
  if (!activation) cmd.push('--activate', 'n', '--zero', 'n');
  cmd.push('-L');
  // A sparse (snapshot-backed) volume needs device-mapper; without it volumes are fully allocated.
  if (activation && vol.hasAllocation && vol.allocation !== vol.capacity) {
    cmd.push(kib(vol.allocation > 0n ? vol.allocation : 1n), '--type', 'snapshot', '--virtualsize');
  }
  cmd.push(kib(vol.capacity));
  if (vol.backingStore) cmd.push('-s', vol.backingStore.path);
  else cmd.push(vgName(pool));
  return cmd;
}

export function buildLvremoveCommand(pool: StoragePoolDef, vol: StorageVolDef, activation: boolean): string[] {
  return ['lvremove', ...lvmConfigArgs(activation), '-f', `${vgName(pool)}/${vol.name}`];
}

export function buildLvresizeCommand(pool: StoragePoolDef, vol: StorageVolDef, capacity: bigint, activation: boolean): string[] {
  // Shrinking was allowed by the caller (--shrink); lvresize asks otherwise.
  return ['lvresize', ...lvmConfigArgs(activation), '--force', '-L', kib(capacity), `${vgName(pool)}/${vol.name}`];
}

export function buildVgcreateCommand(pool: StoragePoolDef, devices: string[], activation: boolean): string[] {
  return ['vgcreate', ...lvmConfigArgs(activation), vgName(pool), ...devices];
}

export function buildPvcreateCommand(device: string, activation: boolean): string[] {
  return ['pvcreate', ...lvmConfigArgs(activation), device];
}

export function buildVgremoveCommand(pool: StoragePoolDef, activation: boolean): string[] {
  return ['vgremove', ...lvmConfigArgs(activation), '-f', vgName(pool)];
}

export function buildPvremoveCommand(device: string, activation: boolean): string[] {
  return ['pvremove', ...lvmConfigArgs(activation), '-ff', '-y', device];
}

/** `vgs` of the pool's volume group: size and free space in bytes. */
export function buildVgsCommand(pool: StoragePoolDef, activation: boolean): string[] {
  return ['vgs', ...lvmConfigArgs(activation), '--separator', ':', '--noheadings', '--units', 'b', '--unbuffered', '--nosuffix', '--options', 'vg_size,vg_free', vgName(pool)];
}

/** The `lvs` columns virtkit reads (libvirt's, plus each segment's start in the volume). */
export const LVS_COLUMNS = ['lv_name', 'origin', 'uuid', 'devices', 'seg_size', 'vg_extent_size', 'size', 'lv_attr', 'seg_start'] as const;

export function buildLvsCommand(pool: StoragePoolDef, activation: boolean, lv?: string): string[] {
  return [
    'lvs', ...lvmConfigArgs(activation), '--separator', '#', '--noheadings', '--units', 'b', '--unbuffered', '--nosuffix',
    '--options', LVS_COLUMNS.join(','), lv ? `${vgName(pool)}/${lv}` : vgName(pool),
  ];
}

/** `pvs` of the group: each physical volume and where its data area starts. */
export function buildPvsCommand(pool: StoragePoolDef, activation: boolean): string[] {
  return ['pvs', ...lvmConfigArgs(activation), '--separator', '#', '--noheadings', '--units', 'b', '--nosuffix', '--options', 'pv_name,vg_name,pe_start'];
}

/** `pvs` for find-storage-pool-sources: every physical volume and its group. */
export function buildFindSourcesCommand(activation: boolean): string[] {
  return ['pvs', ...lvmConfigArgs(activation), '--noheadings', '-o', 'pv_name,vg_name'];
}
