import { VirtError } from '../errors.js';

/**
 * Pool and volume names become file names (definitions, state files,
 * volumes of directory pools): refuse what could leave a folder or break a
 * line-oriented listing, before anything is touched.
 */
function badName(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (name.length > 255) return 'is longer than 255 characters';
  if (name.includes('/')) return "cannot contain '/'";
  if (name === '.' || name === '..') return `cannot be '${name}'`;
  if (name.includes('\0')) return 'cannot contain a NUL character';
  if (name.includes('\n')) return 'cannot contain a newline';
  return undefined;
}

/** Throws XML_ERROR (as libvirt's pool definition parser) when a pool name is unusable. */
export function checkPoolName(name: string): void {
  const why = badName(name);
  if (why) throw new VirtError('XML_ERROR', `storage pool name '${String(name).slice(0, 64)}' ${why}`, { origin: 'storage' });
}

/** Throws OPERATION_INVALID (as libvirt's volume creation) when a volume name is unusable. */
export function checkVolumeName(name: string, pool: string): void {
  const why = badName(name);
  if (why) throw new VirtError('OPERATION_INVALID', `volume name '${String(name).slice(0, 64)}' in pool '${pool}' ${why}`, { origin: 'storage' });
}
