import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { resolveLocalVolumeDiskSource, VirtError, type DomainDef } from '@virtkit/core';
import { assignDeviceAliases } from '../command/alias.js';
import type { QmpClient } from '../qmp/client.js';
import type { Accelerator } from '../process/accel.js';
import { QemuProcess } from '../process/qemu-process.js';
import { applyDiskIndexes, runtimeCommandLine } from './command-line.js';
import type { QemuDriverContext } from './context.js';
import { monitors } from './monitors.js';
import { plugNic, unplugNic } from './nics.js';
import { reserveGraphicsPorts, type GraphicsPorts } from './ports.js';
import { plugBootVcpus } from './resources.js';
import type { ConsoleEndpoint, DomainRecord, HostNicRecord } from './record.js';

export interface LaunchRequest {
  /** What to run; a copy becomes the live definition (id, aliases, taps, pty paths). */
  def: DomainDef;
  persistent: boolean;
  paused: boolean;
  /** State reasons after the start (`booted`/`user`, `restored`/`restored`). */
  runningReason: string;
  pausedReason: string;
  /** A saved state file positioned at the migration stream: QEMU reads it (`-incoming defer`, then `migrate-incoming fd:4`). */
  incomingFd?: number;
  /** An incoming migration: QEMU starts with `-incoming defer` and `beforeCont` tells it where to listen. */
  incomingDefer?: boolean;
  /** More fields for the record written as soon as QEMU exists (a migration's mark). */
  recordExtra?: Partial<DomainRecord>;
  /** Runs before the vCPUs are started (waits for an incoming migration, or tells QEMU where it comes from). */
  beforeCont?: (qmp: QmpClient, run: { id: number; live: DomainDef }) => Promise<void>;
  /** The record before this start, put back if the start fails after QEMU was recorded. */
  previous?: DomainRecord;
}

export interface Launched {
  record: DomainRecord;
  live: DomainDef;
  proc: QemuProcess;
}

/**
 * Disks of type `volume` become what QEMU opens (a file, a block device or
 * a network source), in the copy handed to the command line; the live XML
 * keeps `<source pool volume>`, as libvirt's does.
 */
async function resolveVolumeDisks(ctx: QemuDriverContext, def: DomainDef): Promise<DomainDef> {
  if (!def.devices.disks.some((d) => d.src.type === 'volume')) return def;
  const out = structuredClone(def);
  for (const disk of out.devices.disks) {
    if (disk.src.type !== 'volume') continue;
    const { pool, volume } = disk.src;
    if (!pool || !volume) throw new VirtError('XML_ERROR', `disk '${disk.dst}' of domain '${def.name}': a volume disk needs pool and volume`, { origin: 'qemu' });
    const s = await resolveLocalVolumeDiskSource(ctx.uri, { plugins: ctx.plugins, events: ctx.events }, pool, volume);
    if (s.type === 'network') {
      // A network volume's export name is the disk source's `path` (`<source protocol name>`).
      const { name, url: _url, ...rest } = s;
      void _url;
      Object.assign(disk.src, rest, { path: name, pool, volume });
    } else {
      Object.assign(disk.src, s, { pool, volume });
    }
    disk.src.type = s.type as typeof disk.src.type;
  }
  return out;
}

/** Where the guest's pty/unix serial consoles ended up, written into the live definition. */
async function readConsoles(qmp: QmpClient, live: DomainDef): Promise<ConsoleEndpoint[]> {
  const chrs = [...live.devices.serials, ...live.devices.consoles, ...live.devices.channels];
  const out: ConsoleEndpoint[] = [];
  const needPty = chrs.some((c) => c.source.type === 'pty');
  const ptys = new Map<string, string>();
  if (needPty) {
    const list = await qmp.execute<Array<{ label: string; filename: string }>>('query-chardev');
    for (const c of list) if (c.filename.startsWith('pty:')) ptys.set(c.label, c.filename.slice(4));
  }
  for (const c of chrs) {
    const alias = c.info.alias;
    if (!alias) continue;
    const chardev = `char${alias}`;
    if (c.source.type === 'pty') {
      const path = ptys.get(chardev);
      if (!path) continue;
      c.source.path = path;
      if (!out.some((e) => e.alias === alias)) out.push({ alias, chardev, kind: 'pty', path });
    } else if (c.source.type === 'unix' && c.source.path && c.source.listen) {
      if (!out.some((e) => e.alias === alias)) out.push({ alias, chardev, kind: 'unix', path: c.source.path });
    }
  }
  // The serial console is the first serial port under another name (libvirt formats both).
  const first = live.devices.consoles[0];
  const serial0 = live.devices.serials[0];
  if (first && serial0 && first.targetType === 'serial' && serial0.source.path) first.source = { ...serial0.source };
  return out;
}

/**
 * Starts QEMU for a domain: id, aliases, host NICs, the per-run folder
 * (with the master key the command line names), the command line, QEMU
 * (paused until everything is in place), then the live XML and record.
 * Anything that fails undoes what was done.
 */
export async function launchDomain(ctx: QemuDriverContext, req: LaunchRequest): Promise<Launched> {
  const def = req.def;
  const binary = await ctx.binaryFor(def);
  const caps = await ctx.caps(binary);
  const accel: Accelerator = def.type === 'kvm' ? 'kvm' : 'tcg';
  if (accel === 'kvm' && (await ctx.accel()) !== 'kvm') {
    throw new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': domain type 'kvm' needs KVM, which does not work on this host; use <domain type='qemu'>`, { origin: 'qemu' });
  }
  const id = await ctx.store.allocateId();
  const live = structuredClone(def);
  live.id = id;
  assignDeviceAliases(live);
  const runDir = ctx.paths.runDir(id, def.name);
  const nics: HostNicRecord[] = [];
  let proc: QemuProcess | undefined;
  let ports: GraphicsPorts | undefined;
  let recorded = false;
  try {
    // Small local files: synchronous calls cost less than thread-pool round trips (store.ts).
    // Ids are never reused, so the folder is new; a leftover (runtime folder copied back?) is replaced.
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(runDir, 'master-key.aes'), randomBytes(32), { mode: 0o600 });
    mkdirSync(ctx.paths.logDir, { recursive: true, mode: 0o700 });
    for (const net of live.devices.interfaces) nics.push(await plugNic(ctx, live, net, net.info.alias ?? `net${nics.length}`));
    const forCommand = await resolveVolumeDisks(ctx, live);
    ports = await reserveGraphicsPorts(live);
    const cmd = runtimeCommandLine(ctx, forCommand, caps, {
      id, accel, runDir, ...(req.incomingFd !== undefined || req.incomingDefer ? { incoming: 'defer' } : {}), ...(ports ? { allocatePort: ports.allocate } : {}),
    });
    cmd.graphics.forEach((g, i) => Object.assign(live.devices.graphics[i]!, g));
    applyDiskIndexes(live, cmd.diskIndexes);
    const config = await ctx.parserConfig(binary);
    const base: Omit<DomainRecord, 'process'> = {
      format: 1, name: def.name, uuid: def.uuid, id, state: 'paused', reason: 'starting_up', persistent: req.persistent, accel,
      startedAt: Date.now(), runDir, consoles: [], nics, ...req.recordExtra,
    };
    proc = await QemuProcess.launch({
      name: def.name, uuid: def.uuid, args: cmd.args, env: cmd.env, runDir, binary, logPath: ctx.paths.log(def.name),
      paused: true, monitorInArgs: true, ...(req.incomingFd !== undefined ? { extraFds: [req.incomingFd] } : {}),
      // Recorded while QEMU initialises: a process that dies now leaves a guest the next one finds.
      onSpawned: async (state) => {
        await Promise.all([ctx.store.writeLive(live, config), ctx.store.writeRecord({ ...base, process: state })]);
        recorded = true;
      },
    });
    monitors.adopt(proc);
    const qmp = proc.qmp!;
    const consoles = await readConsoles(qmp, live);
    await plugBootVcpus(qmp, live);
    // The saved state loads once the guest has the devices it was saved with (-incoming defer).
    if (req.incomingFd !== undefined) await qmp.execute('migrate-incoming', { uri: 'fd:4' });
    if (req.beforeCont) await req.beforeCont(qmp, { id, live });
    ports?.release(); // QEMU listens on them now
    const record: DomainRecord = {
      ...base, state: req.paused ? 'paused' : 'running', reason: req.paused ? req.pausedReason : req.runningReason, process: proc.state, consoles,
    };
    // The state is on disk by the time the start returns; the vCPUs start meanwhile.
    await Promise.all([ctx.store.writeLive(live, config), ctx.store.writeRecord(record), req.paused ? undefined : qmp.execute('cont')]);
    return { record, live, proc };
  } catch (err) {
    ports?.release();
    if (proc) await proc.destroy().catch(() => {});
    if (recorded) {
      // Back to what the files said before this start.
      if (req.previous) await ctx.store.writeRecord(req.previous).catch(() => {});
      else await ctx.store.removeRecord(def.name).catch(() => {});
      await ctx.store.removeLive(def.name).catch(() => {});
    }
    for (const n of nics) await unplugNic(ctx, n).catch(() => {});
    rmQuietly(runDir);
    throw err;
  }
}

function rmQuietly(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // what cannot be removed stays (nothing of it is read again)
  }
}

/** What a stopped run leaves to clean: host NICs, the per-run folder, the live XML. */
export async function cleanupRun(ctx: QemuDriverContext, rec: DomainRecord): Promise<void> {
  const dirs = new Set([rec.runDir, rec.process ? dirname(rec.process.monitorPath) : undefined, rec.id >= 0 ? ctx.paths.socketDir(rec.id, rec.name) : undefined]);
  // Sockets of a deep runtime folder live in a short per-run folder under /tmp (socketDirFor).
  // Per-run folders are named by an id never used again: nothing waits for their removal
  // (Node still finishes it before the process exits).
  for (const d of dirs) if (d) void rm(d, { recursive: true, force: true }).catch(() => {});
  await Promise.all([...(rec.nics ?? []).map((n) => unplugNic(ctx, n).catch(() => {})), ctx.store.removeLive(rec.name)]);
}
