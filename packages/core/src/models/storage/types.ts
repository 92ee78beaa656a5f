/**
 * Enumerations of libvirt's storage XML (storage_conf.c,
 * storage_source_conf.c) and the per-pool-type table that says which
 * source parts each pool type uses and which formats it accepts.
 */

export const STORAGE_POOL_TYPES = [
  'dir', 'fs', 'netfs', 'logical', 'disk', 'iscsi', 'iscsi-direct', 'scsi',
  'mpath', 'rbd', 'sheepdog', 'gluster', 'zfs', 'vstorage',
] as const;
export type StoragePoolType = (typeof STORAGE_POOL_TYPES)[number];

export const STORAGE_POOL_FS_FORMATS = [
  'auto', 'ext2', 'ext3', 'ext4', 'ufs', 'iso9660', 'udf', 'gfs', 'gfs2', 'vfat', 'hfs+', 'xfs', 'ocfs2', 'vmfs',
] as const;
export const STORAGE_POOL_NETFS_FORMATS = ['auto', 'nfs', 'glusterfs', 'cifs'] as const;
export const STORAGE_POOL_DISK_FORMATS = ['unknown', 'dos', 'dvh', 'gpt', 'mac', 'bsd', 'pc98', 'sun', 'lvm2'] as const;
export const STORAGE_POOL_LOGICAL_FORMATS = ['unknown', 'lvm2'] as const;

export const STORAGE_VOL_TYPES = ['file', 'block', 'dir', 'network', 'netdir', 'ploop'] as const;
export type StorageVolType = (typeof STORAGE_VOL_TYPES)[number];

/** virStorageFileFormat, in enum order (the order matters to the disk-pool quirk of qemu-img). */
export const STORAGE_FILE_FORMATS = [
  'none', 'raw', 'dir', 'bochs', 'cloop', 'dmg', 'iso', 'vpc', 'vdi', 'fat', 'vhd', 'ploop',
  'cow', 'qcow', 'qcow2', 'qed', 'vmdk',
] as const;
export type StorageFileFormat = (typeof STORAGE_FILE_FORMATS)[number];

/** virStorageVolFormatDisk: partition types of a disk pool's volumes. */
export const STORAGE_VOL_DISK_FORMATS = [
  'none', 'linux', 'fat16', 'fat32', 'linux-swap', 'linux-lvm', 'linux-raid', 'extended',
] as const;

export const STORAGE_FILE_FEATURES = ['lazy_refcounts', 'extended_l2'] as const;
export type StorageFileFeature = (typeof STORAGE_FILE_FEATURES)[number];

export const STORAGE_ENCRYPTION_FORMATS = ['default', 'qcow', 'luks', 'luks2'] as const;
export type StorageEncryptionFormat = (typeof STORAGE_ENCRYPTION_FORMATS)[number];
export const STORAGE_ENCRYPTION_ENGINES = ['qemu', 'librbd'] as const;
export type StorageEncryptionEngine = (typeof STORAGE_ENCRYPTION_ENGINES)[number];

export const STORAGE_AUTH_TYPES = ['chap', 'ceph'] as const;
export type StorageAuthType = (typeof STORAGE_AUTH_TYPES)[number];

/** Which parts of <source> a pool type uses (libvirt's VIR_STORAGE_POOL_SOURCE_* flags). */
export type PoolSourcePart = 'host' | 'device' | 'dir' | 'adapter' | 'name' | 'initiator' | 'network';

export interface StoragePoolTypeInfo {
  readonly source: readonly PoolSourcePart[];
  /** Accepted <source><format type=…>, first-listed default in `defaultSourceFormat`. */
  readonly sourceFormats?: readonly string[];
  readonly defaultSourceFormat?: string;
  /** How volume formats are named: file image formats, partition types, or none at all. */
  readonly volFormats?: 'file' | 'disk';
}

const FILE_VOLS = 'file' as const;

export const STORAGE_POOL_TYPE_INFO: Readonly<Record<StoragePoolType, StoragePoolTypeInfo>> = {
  logical: { source: ['name', 'device'], sourceFormats: STORAGE_POOL_LOGICAL_FORMATS, defaultSourceFormat: 'lvm2' },
  dir: { source: [], volFormats: FILE_VOLS },
  fs: { source: ['device'], sourceFormats: STORAGE_POOL_FS_FORMATS, defaultSourceFormat: 'auto', volFormats: FILE_VOLS },
  netfs: { source: ['host', 'dir'], sourceFormats: STORAGE_POOL_NETFS_FORMATS, defaultSourceFormat: 'auto', volFormats: FILE_VOLS },
  iscsi: { source: ['host', 'device', 'initiator'] },
  'iscsi-direct': { source: ['host', 'device', 'network', 'initiator'] },
  scsi: { source: ['adapter'] },
  rbd: { source: ['host', 'network', 'name'], volFormats: FILE_VOLS },
  sheepdog: { source: ['host', 'network', 'name'] },
  gluster: { source: ['host', 'network', 'name', 'dir'], volFormats: FILE_VOLS },
  mpath: { source: [] },
  disk: { source: ['device'], sourceFormats: STORAGE_POOL_DISK_FORMATS, defaultSourceFormat: 'unknown', volFormats: 'disk' },
  zfs: { source: ['name', 'device'] },
  vstorage: { source: ['name'], volFormats: FILE_VOLS },
};

export function poolUses(type: StoragePoolType, part: PoolSourcePart): boolean {
  return STORAGE_POOL_TYPE_INFO[type].source.includes(part);
}

/** The volume formats a pool type accepts, with the default one, or undefined when its volumes have none. */
export function volFormatsOf(type: StoragePoolType): { formats: readonly string[]; defaultFormat: string } | undefined {
  const kind = STORAGE_POOL_TYPE_INFO[type].volFormats;
  if (kind === 'file') return { formats: STORAGE_FILE_FORMATS.slice(1), defaultFormat: 'raw' };
  if (kind === 'disk') return { formats: STORAGE_VOL_DISK_FORMATS, defaultFormat: 'none' };
  return undefined;
}
