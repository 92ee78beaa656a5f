import {
  VirtError,
  parseStoragePoolSourceXml,
  type StoragePoolSource,
  type StoragePoolSourceList,
} from '@virtkit/core';

/**
 * NFS export discovery for `find-storage-pool-sources netfs`, as libvirt's
 * virStorageBackendFileSystemNetFindNFSPoolSources does it: showmount's
 * export list becomes one <source> per exported directory.
 */

/** The host named by a `<source><host name=…/></source>` specification (exactly one). */
export function hostOfSourceSpec(spec: string): string {
  const src = parseStoragePoolSourceXml(spec, 'netfs');
  if (src.hosts.length !== 1) {
    throw new VirtError('CONFIG_UNSUPPORTED', 'netfs pool source: expected exactly 1 host for the storage pool', { origin: 'storage.netfs' });
  }
  return src.hosts[0]!.name;
}

export function buildShowmountCommand(host: string, opts: { showmount?: string } = {}): string[] {
  return [opts.showmount ?? 'showmount', '--no-headers', '--exports', host];
}

/** Reads `showmount --no-headers --exports HOST` output ("/dir  client,client" per line). */
export function parseShowmountExports(output: string, host: string): StoragePoolSourceList {
  const sources: StoragePoolSource[] = [];
  for (const line of output.split('\n')) {
    const m = /^(\/.*\S) +\S+$/.exec(line);
    if (!m) continue;
    const path = m[1]!;
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (name === '') {
      throw new VirtError('INTERNAL_ERROR', `netfs pool sources of '${host}': invalid netfs path (ends in /): ${path}`, { origin: 'storage.netfs' });
    }
    sources.push({ hosts: [{ name: host }], devices: [], dir: path, format: 'nfs' });
  }
  return { type: 'netfs', sources };
}
