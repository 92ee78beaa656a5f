import {
  STORAGE_FILE_FORMATS,
  STORAGE_POOL_TYPE_INFO,
  STORAGE_VOL_DISK_FORMATS,
  VirtError,
  type StorageFileFormat,
  type StoragePoolDef,
} from '@virtkit/core';

/**
 * libvirt keeps a volume's format as an integer of its pool's format enum
 * and hands that integer to qemu-img as an image format. For file pools
 * the two agree; for disk pools a partition type's number is read as the
 * image format with that number. These helpers reproduce that mapping.
 */
export function formatNumber(pool: StoragePoolDef, format: string | undefined): number {
  if (format === undefined) return 0;
  const list: readonly string[] =
    STORAGE_POOL_TYPE_INFO[pool.type].volFormats === 'disk' ? STORAGE_VOL_DISK_FORMATS : STORAGE_FILE_FORMATS;
  const n = list.indexOf(format);
  if (n < 0) throw new VirtError('INTERNAL_ERROR', `unknown storage vol format '${format}' in pool '${pool.name}'`, { origin: 'storage' });
  return n;
}

export function fileFormatName(n: number): StorageFileFormat | undefined {
  return STORAGE_FILE_FORMATS[n];
}

export const FMT = {
  NONE: 0,
  RAW: STORAGE_FILE_FORMATS.indexOf('raw'),
  ISO: STORAGE_FILE_FORMATS.indexOf('iso'),
  QCOW: STORAGE_FILE_FORMATS.indexOf('qcow'),
  QCOW2: STORAGE_FILE_FORMATS.indexOf('qcow2'),
} as const;
