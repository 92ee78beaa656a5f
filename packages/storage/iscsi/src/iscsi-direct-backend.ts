import {
  VirtError,
  formatStoragePoolSourceListXml,
  parseStoragePoolSourceXml,
  type StoragePoolBackend,
  type StoragePoolDef,
  type StoragePoolObject,
  type StorageVolDef,
  type VolumeDiskSource,
} from '@virtkit/core';
import { downloadFromTarget, openQemuTarget, runCommand, uploadToTarget, wipeTarget } from '@virtkit/storage-dir';
import { sourcesFromTargets } from './iscsiadm.js';
import { buildIscsiLsCommand, buildReadCapacityCommand, iscsiUrl, parseIscsiLs, parseReadCapacity } from './libiscsi.js';
import { directPortal, targetIqn } from './portal.js';

const ORIGIN = 'storage.iscsi-direct';
/** libvirt's volume names for LUNs: `unit:0:0:LUN`. */
export const LUN_VOLUME_PREFIX = 'unit:0:0:';

function initiatorOf(def: StoragePoolDef): string {
  if (!def.source.initiatorIqn) throw new VirtError('CONFIG_UNSUPPORTED', `storage pool '${def.name}': missing initiator IQN`, { origin: ORIGIN });
  return def.source.initiatorIqn;
}

function refuseAuth(def: StoragePoolDef): void {
  if (def.source.auth) {
    throw new VirtError('CONFIG_UNSUPPORTED', `storage pool '${def.name}': CHAP authentication needs a secret driver, which this host has not`, { origin: ORIGIN });
  }
}

/** The LUN number of a volume (`unit:0:0:3` → 3). */
export function lunOf(vol: StorageVolDef): number {
  const rest = vol.name.startsWith(LUN_VOLUME_PREFIX) ? vol.name.slice(LUN_VOLUME_PREFIX.length) : '';
  if (!/^[0-9]+$/.test(rest)) throw new VirtError('INTERNAL_ERROR', `invalid volume name ${vol.name}`, { origin: ORIGIN });
  return Number(rest);
}

/** How QEMU opens a LUN: `iscsi://host:port/IQN/LUN`, logging in as the pool's initiator. */
export function lunDiskSource(def: StoragePoolDef, lun: number): VolumeDiskSource {
  const portal = directPortal(def.source);
  const h = def.source.hosts[0]!;
  const iqn = targetIqn(def.source, `storage pool '${def.name}'`);
  return {
    type: 'network',
    protocol: 'iscsi',
    name: `${iqn}/${lun}`,
    hosts: [{ name: h.name, port: h.port || 3260, transport: 'tcp' }],
    format: 'raw',
    initiatorIqn: initiatorOf(def),
    url: iscsiUrl(portal, iqn, lun),
  };
}

/** The LUNs of the pool's target, with exact sizes (libvirt's virISCSIDirectReportLuns). */
async function reportLuns(def: StoragePoolDef, signal?: AbortSignal): Promise<StorageVolDef[]> {
  const what = `storage pool '${def.name}'`;
  const portal = directPortal(def.source);
  const iqn = targetIqn(def.source, what);
  const initiator = initiatorOf(def);
  refuseAuth(def);
  const ls = await runCommand(buildIscsiLsCommand(initiator, portal, { luns: true }), { what, origin: ORIGIN, timeoutMs: 30000, ...(signal ? { signal } : {}) });
  const target = parseIscsiLs(ls.stdout).find((t) => t.target === iqn);
  if (!target) throw new VirtError('OPERATION_FAILED', `${what}: target '${iqn}' not found at ${portal}`, { origin: ORIGIN });
  const vols: StorageVolDef[] = [];
  // Only direct-access LUNs hold data (the controller LUN 0 of most targets does not).
  for (const l of target.luns.filter((x) => x.type === 'DIRECT_ACCESS')) {
    const rc = await runCommand(buildReadCapacityCommand(initiator, portal, iqn, l.lun), { what, origin: ORIGIN, timeoutMs: 30000 });
    const size = parseReadCapacity(rc.stdout);
    if (size === undefined) throw new VirtError('PARSE_FAILED', `${what}: cannot read the capacity of LUN ${l.lun}`, { origin: ORIGIN });
    const path = `ip-${portal}-iscsi-${iqn}-lun-${l.lun}`;
    vols.push({
      name: `${LUN_VOLUME_PREFIX}${l.lun}`,
      key: path,
      type: 'network',
      extents: [],
      capacity: size,
      allocation: size,
      hasAllocation: true,
      target: { path, perms: {}, nocow: false },
    });
  }
  return vols;
}

const volumeWhat = (vol: StorageVolDef) => `storage volume '${vol.name}'`;

/**
 * An `iscsi-direct` pool: the LUNs of one target, reached in user space
 * (libiscsi tools to list them, QEMU's iscsi driver through qemu-nbd to
 * read and write them), as libvirt's storage_backend_iscsi_direct.c.
 * LUNs are fixed: no volume creation, deletion or resize.
 */
export function createIscsiDirectBackend(): StoragePoolBackend {
  return {
    type: 'iscsi-direct',
    async findPoolSources(spec) {
      if (!spec) throw new VirtError('INVALID_ARG', 'hostname must be specified for iscsi sources', { origin: ORIGIN });
      const source = parseStoragePoolSourceXml(spec, 'iscsi-direct');
      if (!source.initiatorIqn) throw new VirtError('CONFIG_UNSUPPORTED', 'missing initiator IQN', { origin: ORIGIN });
      const portal = directPortal(source);
      const { stdout } = await runCommand(buildIscsiLsCommand(source.initiatorIqn, portal), { what: `iSCSI portal ${portal}`, origin: ORIGIN, timeoutMs: 30000 });
      return formatStoragePoolSourceListXml(sourcesFromTargets(parseIscsiLs(stdout).map((t) => t.target), source, 'iscsi-direct'));
    },
    async checkPool() {
      // As libvirt: nothing is attached on this host, an active pool stays active.
      return true;
    },
    async refreshPool(pool: StoragePoolObject, job) {
      const volumes = await reportLuns(pool.def, job.signal);
      const capacity = volumes.reduce((a, v) => a + v.capacity, 0n);
      return { capacity, allocation: capacity, available: 0n, volumes };
    },
    async refreshVol(pool, vol) {
      const found = (await reportLuns(pool.def)).find((v) => v.name === vol.name);
      if (!found) throw new VirtError('NO_STORAGE_VOL', `${volumeWhat(vol)}: LUN is gone from the target`, { origin: ORIGIN });
      vol.capacity = found.capacity;
      vol.allocation = found.allocation;
    },
    async uploadVol(pool, vol, source, opts, job) {
      const t = await openQemuTarget(lunDiskSource(pool.def, lunOf(vol)), 'rw', volumeWhat(vol));
      try {
        await uploadToTarget(t, source, opts, job, volumeWhat(vol));
      } finally {
        await t.close();
      }
    },
    async downloadVol(pool, vol, opts, job) {
      return downloadFromTarget(await openQemuTarget(lunDiskSource(pool.def, lunOf(vol)), 'r', volumeWhat(vol)), opts, job, volumeWhat(vol));
    },
    async wipeVol(pool, vol, algorithm, job) {
      if (algorithm === 'trim') throw new VirtError('ARGUMENT_UNSUPPORTED', `${volumeWhat(vol)}: unsupported algorithm trim`, { origin: ORIGIN });
      const t = await openQemuTarget(lunDiskSource(pool.def, lunOf(vol)), 'rw', volumeWhat(vol));
      try {
        await wipeTarget(t, algorithm, t.size, job, volumeWhat(vol));
      } finally {
        await t.close();
      }
    },
    volumeDiskSource(pool, vol) {
      return lunDiskSource(pool.def, lunOf(vol));
    },
  };
}
