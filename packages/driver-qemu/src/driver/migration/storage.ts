import { stat, statfs } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import {
  escapeXml, LocalStorageDriver, parseXml, resolveLocalVolumeDiskSource, VirtError,
  type DiskDef, type DomainDef, type MigrationDiskInfo, type MigrationFlags,
} from '@virtkit/core';
import type { QmpClient } from '../../qmp/client.js';
import type { QemuDriverContext } from '../context.js';
import type { QemuBlockJob } from './stats.js';

// statfs f_type of the file systems libvirt's virFileIsSharedFS calls shared.
const SHARED_FS = new Map<number, string>([
  [0x6969, 'nfs'], [0xff534d42, 'cifs'], [0xfe534d42, 'smb2'], [0x517b, 'smb'], [0x01161970, 'gfs2'], [0x7461636f, 'ocfs2'],
  [0x5346414f, 'afs'], [0x00c36400, 'ceph'], [0x47504653, 'gpfs'],
]);

async function isOnSharedFs(path: string): Promise<boolean> {
  try {
    return SHARED_FS.has(Number((await statfs(path)).type));
  } catch {
    return false;
  }
}

/** Disks with no medium (an empty cdrom) hold nothing to move. */
function isEmpty(disk: DiskDef): boolean {
  const s = disk.src;
  if (s.type === 'volume') return !s.pool || !s.volume;
  if (s.type === 'network') return !s.path && !s.protocol;
  return !s.path;
}

interface QueryBlockEntry {
  device: string;
  qdev?: string;
  inserted?: { 'node-name'?: string; image?: { 'virtual-size'?: number; format?: string } };
}

/** The top node of each disk, by alias (`virtio-disk0` → `libvirt-1-format`), from query-block. */
export async function diskNodes(qmp: QmpClient): Promise<Map<string, { node: string; virtualSize?: number }>> {
  const out = new Map<string, { node: string; virtualSize?: number }>();
  for (const b of await qmp.execute<QueryBlockEntry[]>('query-block')) {
    const node = b.inserted?.['node-name'];
    if (!node) continue;
    // qdev is the device id or its QOM path (/machine/peripheral/ALIAS/virtio-backend).
    const alias = b.qdev?.startsWith('/machine/peripheral/') ? b.qdev.split('/')[3] : b.qdev || b.device.replace(/^drive-/, '');
    if (alias) out.set(alias, { node, ...(b.inserted?.image?.['virtual-size'] !== undefined ? { virtualSize: b.inserted.image['virtual-size'] } : {}) });
  }
  return out;
}

/**
 * libvirt's qemuMigrationSrcIsSafe and the list of disks to copy: a disk
 * on shared storage (a network source, a file on NFS/CIFS/GFS2/…) moves
 * by itself; a local one is copied with `copyStorage`, and without it the
 * migration is refused as unsafe (unless `unsafe`).
 */
export async function planDiskCopies(ctx: QemuDriverContext, live: DomainDef, flags: MigrationFlags, qmp?: QmpClient): Promise<MigrationDiskInfo[]> {
  const copies: MigrationDiskInfo[] = [];
  const nodes = flags.copyStorage && qmp ? await diskNodes(qmp) : new Map<string, { node: string; virtualSize?: number }>();
  for (const disk of live.devices.disks) {
    if (isEmpty(disk) || disk.readonly || disk.shareable) continue;
    let type = disk.src.type;
    let path = disk.src.path;
    if (type === 'volume') {
      const s = await resolveLocalVolumeDiskSource(ctx.uri, { plugins: ctx.plugins, events: ctx.events }, disk.src.pool!, disk.src.volume!);
      type = s.type as typeof type;
      path = 'path' in s ? s.path : undefined;
    }
    const shared = type === 'network' || ((type === 'file' || type === 'block' || type === 'dir') && !!path && (await isOnSharedFs(path)));
    if (shared) continue;
    if (!flags.copyStorage) {
      if (flags.unsafe) continue;
      throw new VirtError('MIGRATE_UNSAFE', `Unsafe migration: Migration without shared storage is unsafe (disk '${disk.dst}' of domain '${live.name}' is on local storage: use --copy-storage-all or shared storage)`, { origin: 'qemu' });
    }
    if (type !== 'file' && type !== 'block') {
      throw new VirtError('ARGUMENT_UNSUPPORTED', `disk '${disk.dst}' of domain '${live.name}': copying storage of type '${type}' is not supported`, { origin: 'qemu' });
    }
    const alias = disk.info.alias ?? '';
    const capacity = nodes.get(alias)?.virtualSize ?? (path ? (await stat(path)).size : 0);
    copies.push({
      target: disk.dst,
      ...(disk.src.format ? { format: disk.src.format } : {}),
      capacity,
      source: disk.src.type === 'volume' ? { type: 'volume', pool: disk.src.pool!, volume: disk.src.volume! } : { type: type as 'file' | 'block', path: path! },
    });
  }
  return copies;
}

function storageOf(ctx: QemuDriverContext): LocalStorageDriver {
  return new LocalStorageDriver(ctx.uri, { events: ctx.events, plugins: ctx.plugins, autostart: false });
}

/** The pool whose target folder holds `path`, if any. */
async function poolHolding(storage: LocalStorageDriver, path: string): Promise<string | undefined> {
  for (const p of await storage.listPools()) {
    if (p.state !== 'running') continue;
    const target = parseXml(await storage.getPoolXml(p.uuid), `pool '${p.name}'`).find('target/path')?.text().trim();
    if (target && target.replace(/\/+$/, '') === dirname(path)) return p.name;
  }
  return undefined;
}

/**
 * libvirt's qemuMigrationDstPrecreateStorage: the images copied disks go
 * into, created in the destination's pools with the source's size and
 * format. Existing volumes and files are used as they are. Returns what
 * was created, for the rollback.
 */
export async function precreateDisks(ctx: QemuDriverContext, domain: string, disks: MigrationDiskInfo[]): Promise<Array<{ pool: string; volume: string }>> {
  const storage = storageOf(ctx);
  const created: Array<{ pool: string; volume: string }> = [];
  try {
    for (const d of disks) {
      let pool: string;
      let volume: string;
      if (d.source.type === 'volume') {
        pool = d.source.pool;
        volume = d.source.volume;
      } else {
        if (await stat(d.source.path).then(() => true, () => false)) continue;
        const holder = await poolHolding(storage, d.source.path);
        if (!holder) {
          throw new VirtError('OPERATION_FAILED', `cannot precreate storage for disk '${d.target}' of domain '${domain}': no active storage pool holds '${dirname(d.source.path)}' on the destination; create '${d.source.path}' there first`, { origin: 'qemu' });
        }
        pool = holder;
        volume = d.source.path.slice(dirname(d.source.path).length + 1);
      }
      const p = await storage.lookupPool({ name: pool }).catch((err: unknown) => {
        throw new VirtError('OPERATION_FAILED', `cannot precreate storage for disk '${d.target}' of domain '${domain}': storage pool '${pool}' is not on the destination`, { origin: 'qemu', cause: err });
      });
      if (await storage.lookupVolume({ pool, name: volume }).then(() => true, () => false)) continue;
      const format = `<target><format type='${escapeXml(d.format ?? 'raw')}'/></target>`;
      await storage.createVolume(p.uuid, `<volume><name>${escapeXml(volume)}</name><capacity unit='bytes'>${d.capacity}</capacity>${format}</volume>`);
      created.push({ pool, volume });
    }
  } catch (err) {
    await removeVolumes(ctx, created);
    throw err;
  }
  return created;
}

/** Removes volumes precreated for a migration that did not happen. */
export async function removeVolumes(ctx: QemuDriverContext, vols: Array<{ pool: string; volume: string }> | undefined): Promise<void> {
  if (!vols?.length) return;
  const storage = storageOf(ctx);
  for (const v of vols) await storage.deleteVolume({ pool: v.pool, name: v.volume }).catch(() => {});
}

/** A TCP port free on `host` now (QEMU's NBD server cannot tell which one it got). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const exportName = (alias: string) => `drive-${alias}`;

/** Destination: the NBD server the source's mirrors write the copied disks into (libvirt's qemuMigrationDstStartNBDServer). */
export async function startNbdServer(qmp: QmpClient, live: DomainDef, disks: MigrationDiskInfo[], listen: string): Promise<number> {
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort(listen);
    try {
      await qmp.execute('nbd-server-start', { addr: { type: 'inet', data: { host: listen, port: String(port) } } });
      break;
    } catch (err) {
      // Someone took the port between our probe and QEMU's bind: try another.
      if (attempt >= 4) throw err;
    }
  }
  const nodes = await diskNodes(qmp);
  for (const d of disks) {
    const disk = live.devices.disks.find((x) => x.dst === d.target);
    const alias = disk?.info.alias;
    const node = alias ? nodes.get(alias)?.node : undefined;
    if (!alias || !node) throw new VirtError('INTERNAL_ERROR', `domain '${live.name}': no block node for disk '${d.target}' on the destination`, { origin: 'qemu' });
    await qmp.execute('block-export-add', { type: 'nbd', id: `migration-${alias}`, 'node-name': node, name: exportName(alias), writable: true });
  }
  return port;
}

export async function stopNbdServer(qmp: QmpClient): Promise<void> {
  await qmp.execute('nbd-server-stop').catch(() => {});
}

/**
 * Source: one blockdev-mirror per copied disk into the destination's NBD
 * exports (libvirt's qemuMigrationSrcNBDStorageCopyBlockdev). Once every
 * mirror is ready the memory migration starts; after it the mirrors are
 * cancelled, which for a ready mirror means "done, keep using the source".
 */
export class DiskMirrors {
  private readonly started: Array<{ job: string; target: string }> = [];

  constructor(
    private readonly qmp: QmpClient,
    private readonly live: DomainDef,
    private readonly disks: MigrationDiskInfo[],
    private readonly nbd: { host: string; port: number },
    private readonly sync: 'full' | 'top',
  ) {}

  get active(): boolean {
    return this.started.length > 0;
  }

  async start(): Promise<void> {
    const nodes = await diskNodes(this.qmp);
    for (const d of this.disks) {
      const alias = this.live.devices.disks.find((x) => x.dst === d.target)?.info.alias;
      const node = alias ? nodes.get(alias)?.node : undefined;
      if (!alias || !node) throw new VirtError('INTERNAL_ERROR', `domain '${this.live.name}': no block node for disk '${d.target}'`, { origin: 'qemu' });
      const target = `migration-${d.target}-storage`;
      await this.qmp.execute('blockdev-add', {
        driver: 'nbd', 'node-name': target, server: { type: 'inet', host: this.nbd.host, port: String(this.nbd.port) }, export: exportName(alias),
      });
      const job = exportName(alias);
      this.started.push({ job, target });
      await this.qmp.execute('blockdev-mirror', { 'job-id': job, device: node, target, sync: this.sync });
    }
  }

  async jobs(): Promise<QemuBlockJob[]> {
    if (!this.started.length) return [];
    const ids = new Set(this.started.map((s) => s.job));
    return (await this.qmp.execute<QemuBlockJob[]>('query-block-jobs')).filter((j) => ids.has(j.device));
  }

  /** Waits until every mirror is in sync; fails when one fails or `check` throws (an abort). */
  async waitReady(check: (jobs: QemuBlockJob[]) => Promise<void>): Promise<void> {
    for (;;) {
      const jobs = await this.jobs();
      const failed = jobs.find((j) => j.error || j.status === 'concluded' || j.status === 'aborting');
      if (failed || jobs.length < this.started.length) {
        throw new VirtError('OPERATION_FAILED', `domain '${this.live.name}': copying disk '${failed?.device ?? '?'}' to the destination failed${failed?.error ? `: ${failed.error}` : ''}`, { origin: 'qemu' });
      }
      await check(jobs);
      if (jobs.every((j) => j.ready)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Ends the mirrors and removes their NBD clients: after a migration the
   * cancel of a ready mirror waits for its last writes (the copy is
   * complete); on a rollback `force` drops them.
   */
  async stop(force: boolean): Promise<void> {
    for (const s of this.started) await this.qmp.execute('block-job-cancel', { device: s.job, force }).catch(() => {});
    const end = Date.now() + 30_000;
    while ((await this.jobs().catch(() => [])).length && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.started) await this.qmp.execute('blockdev-del', { 'node-name': s.target }).catch(() => {});
    this.started.length = 0;
  }
}
