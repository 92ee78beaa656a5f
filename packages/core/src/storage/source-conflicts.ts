import type { StoragePoolDef } from '../models/storage/pool.js';

function sameSingleHost(a: StoragePoolDef, b: StoragePoolDef): boolean {
  if (a.source.hosts.length !== 1 || b.source.hosts.length !== 1) return false;
  const ha = a.source.hosts[0]!;
  const hb = b.source.hosts[0]!;
  if (hb.port && ha.port !== hb.port) return false;
  return ha.name === hb.name;
}

function shareDevice(a: StoragePoolDef, b: StoragePoolDef): boolean {
  return a.source.devices.some((d) => b.source.devices.some((e) => e.path === d.path));
}

const DEVICE_TYPES = new Set(['iscsi', 'fs', 'logical', 'disk', 'zfs']);

/**
 * Whether two pools would use the same storage (libvirt's
 * virStoragePoolObjSourceFindDuplicate): the same directory, the same NFS
 * export, a shared device, or the same volume group.
 */
export function poolSourcesConflict(existing: StoragePoolDef, def: StoragePoolDef): boolean {
  if (existing.name === def.name) return false;
  switch (existing.type) {
    case 'dir':
      return def.type === 'dir' && existing.target?.path === def.target?.path;
    case 'netfs':
      return def.type === 'netfs' && existing.source.dir === def.source.dir && sameSingleHost(existing, def);
    case 'gluster':
      return def.type === 'gluster' && existing.source.name === def.source.name && existing.source.dir === def.source.dir && sameSingleHost(existing, def);
    case 'logical':
      if (def.type === 'logical' && existing.source.name !== undefined && existing.source.name === def.source.name) return true;
      return DEVICE_TYPES.has(def.type) && def.type !== 'iscsi' && shareDevice(existing, def);
    case 'iscsi':
      return def.type === 'iscsi' && shareDevice(existing, def) && existing.source.initiatorIqn === def.source.initiatorIqn;
    case 'fs':
    case 'disk':
    case 'zfs':
      return DEVICE_TYPES.has(def.type) && def.type !== 'iscsi' && shareDevice(existing, def);
    case 'mpath':
      return def.type === 'mpath';
    case 'vstorage':
      return def.type === 'vstorage' && existing.source.name === def.source.name;
    default:
      return false;
  }
}
