import { VirtError, type StoragePoolSource } from '@virtkit/core';

export const ISCSI_DEFAULT_PORT = 3260;

function host(source: StoragePoolSource, what: string): { name: string; port: number } {
  if (source.hosts.length !== 1) throw new VirtError('CONFIG_UNSUPPORTED', `${what}: expected exactly 1 host for the storage pool`, { origin: 'storage.iscsi' });
  const h = source.hosts[0]!;
  return { name: h.name, port: h.port || ISCSI_DEFAULT_PORT };
}

/** The portal as iscsiadm takes it (libvirt's virStorageBackendISCSIPortal): `host:port,1`, IPv6 in brackets. */
export function iscsiadmPortal(source: StoragePoolSource, what = 'iscsi pool'): string {
  const h = host(source, what);
  return h.name.includes(':') ? `[${h.name}]:${h.port},1` : `${h.name}:${h.port},1`;
}

/** The portal as libiscsi takes it (virStorageBackendISCSIDirectPortal): `host:port`. */
export function directPortal(source: StoragePoolSource, what = 'iscsi-direct pool'): string {
  const h = host(source, what);
  return h.name.includes(':') ? `[${h.name}]:${h.port}` : `${h.name}:${h.port}`;
}

/** The pool's target IQN (its one <device path=…>). */
export function targetIqn(source: StoragePoolSource, what: string): string {
  const dev = source.devices[0]?.path;
  if (!dev || source.devices.length !== 1) throw new VirtError('CONFIG_UNSUPPORTED', `${what}: expected exactly 1 device (the target IQN) for the storage pool`, { origin: 'storage.iscsi' });
  return dev;
}
