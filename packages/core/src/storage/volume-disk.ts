import type { PluginResolver, StorageDriver } from '../driver.js';
import { VirtError } from '../errors.js';
import { EventBus } from '../events.js';
import type { StorageVolDef } from '../models/storage/volume.js';
import type { VirtUri } from '../uri.js';
import { parseXml } from '../xml/parse.js';
import type { VolumeDiskSource } from './backend.js';
import { LocalStorageDriver } from './local-driver.js';

/** A volume opened through its path: a file, a block device or a directory. */
export function defaultVolumeDiskSource(vol: StorageVolDef): VolumeDiskSource {
  const path = vol.target.path;
  if (!path) throw new VirtError('INTERNAL_ERROR', `storage volume '${vol.name}' has no path`, { origin: 'storage' });
  if (vol.type === 'network' || vol.type === 'netdir') return networkSourceFromUrl(path, vol.target.format);
  const type = vol.type === 'block' ? 'block' : vol.type === 'dir' ? 'dir' : 'file';
  return { type, path, ...(vol.target.format && vol.target.format !== 'none' ? { format: vol.target.format } : {}) };
}

/** A network volume's URL (`nfs://host/export/file`, `iscsi://host:port/iqn/lun`) as a disk source. */
export function networkSourceFromUrl(url: string, format?: string): VolumeDiskSource {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VirtError('INTERNAL_ERROR', `'${url}' is not a network volume URL`, { origin: 'storage' });
  }
  const protocol = u.protocol.replace(/:$/, '');
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port ? Number(u.port) : undefined;
  const name = decodeURIComponent(protocol === 'nfs' ? u.pathname : u.pathname.replace(/^\//, ''));
  return {
    type: 'network',
    protocol,
    name,
    hosts: [{ name: host, ...(port ? { port } : {}) }],
    url,
    ...(format && format !== 'none' ? { format } : {}),
  };
}

/** What can translate `<source pool= volume=>` itself (the local storage driver). */
export interface VolumeDiskSourceResolver {
  volumeDiskSource(pool: string, volume: string): Promise<VolumeDiskSource>;
}

function hasResolver(x: unknown): x is VolumeDiskSourceResolver {
  return !!x && typeof (x as VolumeDiskSourceResolver).volumeDiskSource === 'function';
}

/**
 * Resolves a domain disk of type `volume` (`<source pool='p' volume='v'/>`)
 * to what a hypervisor driver opens: a path (file, block device, maybe a
 * slice of one) or a network source with protocol, hosts and name, as
 * libvirt's virDomainDiskTranslateSourcePool does. The pool must be active.
 * Works with any storage driver; the local one answers for every backend
 * (NFS in user space, iSCSI LUNs, logical volumes without device nodes).
 */
export async function resolveVolumeDiskSource(storage: StorageDriver | VolumeDiskSourceResolver, pool: string, volume: string): Promise<VolumeDiskSource> {
  if (hasResolver(storage)) return storage.volumeDiskSource(pool, volume);
  const s = storage as StorageDriver;
  const summary = await s.lookupVolume({ pool, name: volume });
  const xml = await s.getVolumeXml({ pool, name: volume });
  const format = parseXml(xml, `volume '${volume}'`).find('target/format')?.attr('type');
  const vol: StorageVolDef = {
    name: summary.name,
    type: summary.type,
    extents: [],
    capacity: 0n,
    allocation: 0n,
    hasAllocation: false,
    target: { path: summary.path, perms: {}, nocow: false, ...(format ? { format } : {}) },
  };
  return defaultVolumeDiskSource(vol);
}

/**
 * For hypervisor drivers, which do not hold the connection's storage
 * driver: resolves a volume disk through the local storage of their URI.
 */
export async function resolveLocalVolumeDiskSource(
  uri: VirtUri,
  ctx: { plugins: PluginResolver; events?: EventBus },
  pool: string,
  volume: string,
): Promise<VolumeDiskSource> {
  const driver = new LocalStorageDriver(uri, { events: ctx.events ?? new EventBus(), plugins: ctx.plugins, autostart: false });
  return driver.volumeDiskSource(pool, volume);
}
