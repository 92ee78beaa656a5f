import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import {
  VirtError,
  formatStoragePoolSourceListXml,
  parseStoragePoolSourceXml,
  type StoragePoolBackend,
  type StoragePoolDef,
  type StorageVolDef,
} from '@virtkit/core';
import { downloadLocalVolume, runCommand, uploadLocalVolume, wipeLocalVolume } from '@virtkit/storage-dir';
import {
  buildIfaceCreateCommands,
  buildIfaceListCommand,
  buildNodeCommand,
  buildRescanCommand,
  buildSendTargetsCommand,
  buildSessionListCommand,
  findIfaceForIqn,
  parseSendTargets,
  parseSessions,
  sourcesFromTargets,
} from './iscsiadm.js';
import { iscsiadmPortal, targetIqn } from './portal.js';

const ORIGIN = 'storage.iscsi';

const run = (def: StoragePoolDef | undefined, argv: string[], o: { allowFailure?: boolean } = {}) =>
  runCommand(argv, { origin: ORIGIN, timeoutMs: 60000, ...(def ? { what: `storage pool '${def.name}'` } : {}), ...o });

/** The session of the pool's target, if logged in (virISCSIGetSession). */
async function sessionOf(def: StoragePoolDef): Promise<string | undefined> {
  const r = await run(def, buildSessionListCommand(), { allowFailure: true });
  const iqn = targetIqn(def.source, `storage pool '${def.name}'`);
  return parseSessions(r.stdout).find((s) => s.target === iqn)?.id;
}

/** The iscsiadm interface carrying the pool's initiator IQN, made when missing (virISCSIConnection). */
async function ifaceFor(def: StoragePoolDef, portal: string): Promise<string | undefined> {
  const iqn = def.source.initiatorIqn;
  if (!iqn) return undefined;
  const found = findIfaceForIqn((await run(def, buildIfaceListCommand())).stdout, iqn);
  if (found) return found;
  const name = `libvirt-iface-${Math.floor(Math.random() * 0x3fffffff).toString(16).padStart(8, '0')}`;
  for (const argv of buildIfaceCreateCommands(name, iqn)) await run(def, argv, { allowFailure: true });
  const made = findIfaceForIqn((await run(def, buildIfaceListCommand())).stdout, iqn);
  if (!made) throw new VirtError('OPERATION_FAILED', `storage pool '${def.name}': cannot create an iscsi interface for IQN '${iqn}'`, { origin: ORIGIN });
  // iscsiadm only takes commands for the interface after a sendtargets to the portal.
  await run(def, buildSendTargetsCommand(portal));
  return made;
}

/** SCSI devices of a session's host: `/sys/bus/scsi/devices/H:B:T:L` with their block device. */
async function sessionLuns(session: string): Promise<Array<{ bus: number; target: number; lun: number; block: string }>> {
  const dev = `/sys/class/iscsi_session/session${session}/device`;
  const entries = await readdir(dev).catch(() => [] as string[]);
  const t = entries.map((e) => /^target([0-9]+):([0-9]+):([0-9]+)$/.exec(e)).find(Boolean);
  if (!t) return [];
  const host = Number(t[1]);
  const out: Array<{ bus: number; target: number; lun: number; block: string }> = [];
  for (const e of await readdir('/sys/bus/scsi/devices').catch(() => [] as string[])) {
    const m = /^([0-9]+):([0-9]+):([0-9]+):([0-9]+)$/.exec(e);
    if (!m || Number(m[1]) !== host) continue;
    const blocks = await readdir(join('/sys/bus/scsi/devices', e, 'block')).catch(() => [] as string[]);
    if (blocks[0]) out.push({ bus: Number(m[2]), target: Number(m[3]), lun: Number(m[4]), block: blocks[0] });
  }
  return out;
}

/** A stable path for /dev/sdX under the pool's target folder (/dev/disk/by-path), as virStorageBackendStablePath. */
async function stablePath(def: StoragePoolDef, dev: string): Promise<string> {
  const dir = def.target?.path ?? '/dev';
  if (dir === '/dev' || dir === '/dev/') return dev;
  for (const e of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, e);
    if ((await realpath(p).catch(() => '')) === dev) return p;
  }
  return dev;
}

/**
 * An `iscsi` pool: a target's LUNs as block devices of the kernel
 * initiator (libvirt's storage_backend_iscsi.c over iscsiadm). Needs the
 * kernel's iSCSI initiator and open-iscsi; elsewhere use `iscsi-direct`.
 */
export function createIscsiBackend(): StoragePoolBackend {
  return {
    type: 'iscsi',
    async findPoolSources(spec) {
      if (!spec) throw new VirtError('INVALID_ARG', 'hostname must be specified for iscsi sources', { origin: ORIGIN });
      const source = parseStoragePoolSourceXml(spec, 'iscsi');
      const portal = iscsiadmPortal(source);
      const { stdout } = await run(undefined, buildSendTargetsCommand(portal));
      return formatStoragePoolSourceListXml(sourcesFromTargets(parseSendTargets(stdout), source, 'iscsi'));
    },
    async checkPool(pool) {
      return (await sessionOf(pool.def)) !== undefined;
    },
    async startPool(pool) {
      const def = pool.def;
      const portal = iscsiadmPortal(def.source);
      const target = targetIqn(def.source, `storage pool '${def.name}'`);
      if (def.source.auth) throw new VirtError('CONFIG_UNSUPPORTED', `storage pool '${def.name}': CHAP authentication needs a secret driver, which this host has not`, { origin: ORIGIN });
      if (await sessionOf(def)) return;
      const iface = await ifaceFor(def, portal);
      await run(def, buildSendTargetsCommand(portal, { persist: true, ...(iface ? { iface } : {}) }));
      await run(def, buildNodeCommand(portal, target, 'login', iface ? { iface } : {}));
    },
    async refreshPool(pool) {
      const def = pool.def;
      const session = await sessionOf(def);
      if (!session) throw new VirtError('OPERATION_FAILED', `storage pool '${def.name}': cannot find iscsiadm session`, { origin: ORIGIN });
      await run(def, buildRescanCommand(session));
      const volumes: StorageVolDef[] = [];
      let capacity = 0n;
      for (const l of await sessionLuns(session)) {
        const sectors = BigInt((await readFile(`/sys/block/${l.block}/size`, 'utf8')).trim() || '0');
        const size = sectors * 512n;
        const path = await stablePath(def, `/dev/${l.block}`);
        capacity += size;
        volumes.push({
          name: `unit:${l.bus}:${l.target}:${l.lun}`,
          key: path,
          type: 'block',
          extents: [],
          capacity: size,
          allocation: size,
          hasAllocation: true,
          target: { path, perms: {}, nocow: false },
        });
      }
      return { capacity, allocation: capacity, available: 0n, volumes };
    },
    async stopPool(pool) {
      const def = pool.def;
      const portal = iscsiadmPortal(def.source);
      const iface = def.source.initiatorIqn ? findIfaceForIqn((await run(def, buildIfaceListCommand(), { allowFailure: true })).stdout, def.source.initiatorIqn) : undefined;
      await run(def, buildNodeCommand(portal, targetIqn(def.source, `storage pool '${def.name}'`), 'logout', iface ? { iface } : {}));
    },
    async uploadVol(_pool, vol, source, opts, job) {
      await uploadLocalVolume(vol, source, opts, job);
    },
    async downloadVol(_pool, vol, opts, job) {
      return downloadLocalVolume(vol, opts, job);
    },
    wipeVol: wipeLocalVolume,
  };
}

/** Whether this host can run `iscsi` pools: open-iscsi's iscsiadm and the kernel initiator (iscsi_tcp). */
export async function kernelInitiatorAvailable(): Promise<{ ok: boolean; reason?: string }> {
  const have = await runCommand(['sh', '-c', 'command -v iscsiadm'], { allowFailure: true });
  if (have.code !== 0) return { ok: false, reason: 'iscsiadm (open-iscsi) is not installed' };
  const tcp = await readlink('/sys/module/iscsi_tcp').then(() => true, () => readdir('/sys/module/iscsi_tcp').then(() => true, () => false));
  if (!tcp) return { ok: false, reason: 'the kernel has no iSCSI initiator (module iscsi_tcp)' };
  return { ok: true };
}
