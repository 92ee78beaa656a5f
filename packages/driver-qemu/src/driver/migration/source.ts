import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Server, Socket } from 'node:net';
import {
  formatDomainXml, VirtError,
  type DomainJobInfo, type JobContext, type MigrationBegun, type MigrationConfirmParams, type MigrationFlags, type MigrationPerformParams, type MigrationPerformed,
} from '@virtkit/core';
import type { QmpClient } from '../../qmp/client.js';
import type { ActiveJob, QemuDomains } from '../domains.js';
import { DomainJob, runningJob } from '../jobs.js';
import { monitors } from '../monitors.js';
import { isActive } from '../views.js';
import { ownMark } from './mark.js';
import { jobStatsOf, progressOf, type QemuBlockJob, type QemuMigrationInfo } from './stats.js';
import { DiskMirrors, planDiskCopies } from './storage.js';
import { listenForOutgoing } from './tunnel.js';

const MiB = 1024 * 1024;
// libvirt's QEMU_DOMAIN_MIG_BANDWIDTH_MAX: no limit unless asked.
const UNLIMITED_BANDWIDTH = 2 ** 53 - 1;

function invalid(msg: string): VirtError {
  return new VirtError('OPERATION_INVALID', `Requested operation is not valid: ${msg}`, { origin: 'qemu' });
}

/** What the source keeps between perform and confirm (same process). */
interface Outgoing {
  job: DomainJob;
  mirrors?: DiskMirrors;
  postcopy: boolean;
  wasRunning: boolean;
}
const outgoing = new Map<string, Outgoing>();
const outKey = (d: QemuDomains, uuid: string) => `${d.paths.runtimeDir}\0${uuid}`;

/** The capabilities every migration sets (all of them, so a previous migration's choice does not linger). */
function capabilitiesFor(f: MigrationFlags): Array<{ capability: string; state: boolean }> {
  return [
    { capability: 'events', state: true },
    { capability: 'postcopy-ram', state: !!f.postcopy },
    { capability: 'auto-converge', state: !!f.autoConverge },
    { capability: 'xbzrle', state: !!f.compressed },
  ];
}

/** virDomainMigrateBegin3: the XML the destination starts, and the cookie (disks to copy, persistent definition). */
export async function migrateBegin(d: QemuDomains, uuid: string, flags: MigrationFlags): Promise<MigrationBegun> {
  return d.job(uuid, 'migrate-begin', async (v) => {
    const config = async (def: Parameters<QemuDomains['parserConfigFor']>[0]) => d.parserConfigFor(def);
    if (flags.offline) {
      if (!v.config) throw invalid(`cannot migrate transient domain '${v.name}' offline`);
      const xml = flags.persistentXml ?? formatDomainXml(v.config, { inactive: true, migratable: true, secure: true, config: await config(v.config) });
      return { xml, cookie: { name: v.name, uuid, hostname: hostname(), persistentXml: xml } };
    }
    if (!isActive(v)) throw invalid(`domain '${v.name}' is not running`);
    const other = runningJob(d, uuid);
    if (other) throw invalid(`domain '${v.name}' has a job running already (${other.snapshot().operation})`);
    if (v.record.migration) throw invalid(`domain '${v.name}' is being migrated already`);
    const live = v.live;
    // The disk sizes come from QEMU; the monitor is needed only to copy storage.
    const disks = flags.copyStorage
      ? await d.activeJob(uuid, 'migrate-begin', (j) => planDiskCopies(d.ctx, j.live, flags, j.qmp))
      : await planDiskCopies(d.ctx, live, flags);
    let xml = formatDomainXml(live, { migratable: true, secure: true, config: await config(live) });
    if (flags.xml) {
      const alt = await d.parse(flags.xml, { inactive: false, what: 'the destination XML (--xml)' });
      if (alt.uuid !== live.uuid || alt.name !== live.name) throw new VirtError('INVALID_ARG', `the destination XML must describe domain '${live.name}' (${live.uuid})`, { origin: 'qemu' });
      xml = flags.xml;
    }
    const persistentDef = v.config ?? live;
    const persistentXml = flags.persistent
      ? (flags.persistentXml ?? formatDomainXml(persistentDef, { inactive: true, migratable: true, secure: true, config: await config(persistentDef) }))
      : undefined;
    return {
      xml,
      cookie: {
        name: v.name, uuid, hostname: hostname(), wasRunning: v.record.state === 'running',
        ...(persistentXml ? { persistentXml } : {}), ...(disks.length ? { disks } : {}),
      },
    };
  });
}

/** Polls query-migrate (woken early by QEMU's MIGRATION events) until `done` says the migration reached its end. */
class MigrationWatch {
  private wake?: () => void;
  private readonly off: () => void;
  constructor(private readonly qmp: QmpClient) {
    this.off = qmp.on('MIGRATION', () => this.wake?.());
  }
  async next(ms: number): Promise<QemuMigrationInfo> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
    return this.qmp.execute<QemuMigrationInfo>('query-migrate');
  }
  close(): void {
    this.off();
  }
}

/** After a failed or cancelled migration: QEMU's migration is over, mirrors stopped, the guest runs again when it ran before. */
async function rollBackSource(d: QemuDomains, j: ActiveJob, o: { wasRunning: boolean; mirrors?: DiskMirrors }): Promise<void> {
  const { qmp } = j;
  const m = await qmp.execute<QemuMigrationInfo>('query-migrate').catch(() => ({}) as QemuMigrationInfo);
  if (m.status && !['completed', 'failed', 'cancelled', 'none'].includes(m.status)) {
    await qmp.execute('migrate_cancel').catch(() => {});
    const end = Date.now() + 30_000;
    for (;;) {
      const s = await qmp.execute<QemuMigrationInfo>('query-migrate').catch(() => ({ status: 'failed' }) as QemuMigrationInfo);
      if (!s.status || ['failed', 'cancelled', 'completed', 'none'].includes(s.status) || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await o.mirrors?.stop(true);
  const st = await qmp.execute<{ status: string }>('query-status');
  const dom = { name: j.view.name, uuid: j.view.uuid, id: j.record.id };
  const { migration: _m, ...rest } = j.record;
  void _m;
  if (o.wasRunning && st.status !== 'running') {
    await qmp.execute('cont');
    await d.ctx.store.writeRecord({ ...rest, state: 'running', reason: 'migration_canceled' });
    d.ctx.emit('resumed', 'migrated', dom);
  } else {
    await d.ctx.store.writeRecord(rest);
  }
}

/**
 * virDomainMigratePerform3 (libvirt's qemuMigrationSrcRun): copies disks
 * over NBD when asked (mirrors first, in sync before the memory moves),
 * then lets QEMU migrate — to the destination's TCP port, or into a unix
 * socket whose bytes `params.tunnel` carries — while watching the job:
 * progress, domjobabort, --timeout (suspend or post-copy), the switch to
 * post-copy. Resolves once the destination has everything (the source
 * guest is paused then), or once post-copy runs.
 */
export async function migratePerform(d: QemuDomains, uuid: string, params: MigrationPerformParams, ctx: JobContext | undefined): Promise<MigrationPerformed> {
  const f = params.flags;
  // Only a TCP destination: a caller must not make QEMU write the guest's memory into a file or a command.
  if (params.uri !== undefined && !/^tcp:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(params.uri)) {
    throw new VirtError('INVALID_ARG', `migration URI '${params.uri}' is not a TCP address (tcp:HOST:PORT)`, { origin: 'qemu' });
  }
  return d.activeJob(uuid, 'migrate-perform', async (j) => {
    const { view, qmp, live } = j;
    const dom = { name: view.name, uuid, id: j.record.id };
    if (outgoing.has(outKey(d, uuid)) || j.record.migration) throw invalid(`domain '${view.name}' is being migrated already`);
    const wasRunning = j.record.state === 'running';
    const memTotal = live.memory.total * 1024;
    const job = await DomainJob.start(d, view, 'migration-out', { memTotal, dataTotal: memTotal });
    await d.ctx.store.writeRecord({ ...j.record, migration: await ownMark('out', { wasRunning }) });
    const disks = params.cookie.disks ?? [];
    const mirrors = disks.length && params.nbd ? new DiskMirrors(qmp, live, disks, params.nbd, f.copyStorage === 'inc' ? 'top' : 'full') : undefined;
    let server: Server | undefined;
    let tunnelDone: Promise<void> | undefined;
    let tunnelError: unknown;
    let pausedForMigration = false;
    const watch = new MigrationWatch(qmp);
    const aborted = async () => !!ctx?.signal?.aborted || (await job.abortRequested());
    const abortError = () => {
      const reason = ctx?.signal?.reason ?? job.signal.reason;
      return reason instanceof VirtError ? reason : new VirtError('OPERATION_ABORTED', `operation aborted: migration of domain '${view.name}' was cancelled`, { origin: 'qemu' });
    };
    const report = (stats: Partial<DomainJobInfo>) => {
      job.update(stats);
      const p = progressOf(job.snapshot());
      ctx?.onProgress?.({ ...p, operation: 'migration' });
    };
    try {
      await qmp.execute('migrate-set-capabilities', { capabilities: capabilitiesFor(f) });
      await qmp.execute('migrate-set-parameters', { 'max-bandwidth': f.bandwidth ? Math.round(f.bandwidth * MiB) : UNLIMITED_BANDWIDTH });

      if (mirrors) {
        await mirrors.start();
        await mirrors.waitReady(async (jobs: QemuBlockJob[]) => {
          report(jobStatsOf({}, jobs));
          if (await aborted()) throw abortError();
        });
      }
      if (!f.live && wasRunning) {
        // Non-live: the guest stops first and moves in one piece (libvirt: SUSPENDED_MIGRATED).
        await qmp.execute('stop');
        pausedForMigration = true;
        await d.ctx.store.writeRecord({ ...j.record, state: 'paused', reason: 'migration', migration: await ownMark('out', { wasRunning }) });
        d.ctx.emit('suspended', 'migrated', dom);
      }

      let uri: string;
      if (params.tunnel) {
        const sockPath = join(d.paths.socketDir(j.record.id, view.name), 'migrate-out.sock');
        const out = await listenForOutgoing(sockPath);
        server = out.server;
        const tunnel = params.tunnel;
        tunnelDone = out.connection.then((sock: Socket) => tunnel(sock));
        tunnelDone.catch((e: unknown) => (tunnelError = e ?? new Error('the tunnel broke')));
        uri = `unix:${sockPath}`;
      } else if (params.uri) {
        uri = params.uri;
      } else {
        throw new VirtError('INTERNAL_ERROR', `domain '${view.name}': perform needs a destination URI or a tunnel`, { origin: 'qemu' });
      }
      const started = Date.now();
      await qmp.execute('migrate', { uri });

      let cancelling = false;
      let postcopyAsked = false;
      let timedOut = false;
      let final: QemuMigrationInfo;
      let delay = 5;
      for (;;) {
        const m = await watch.next(delay);
        delay = Math.min(delay * 2, 50);
        report(jobStatsOf(m, mirrors ? await mirrors.jobs() : []));
        if (m.status === 'completed' || m.status === 'postcopy-active') {
          final = m;
          break;
        }
        if (m.status === 'failed' || (m.status === 'cancelled' && tunnelError !== undefined)) {
          if (tunnelError !== undefined) throw tunnelError instanceof VirtError ? tunnelError : new VirtError('OPERATION_FAILED', `operation failed: migration of domain '${view.name}': the tunnel to the destination broke: ${(tunnelError as Error).message}`, { origin: 'qemu' });
          if (cancelling) throw abortError();
          throw new VirtError('OPERATION_FAILED', `operation failed: migration of domain '${view.name}' failed: ${m['error-desc'] ?? 'QEMU reported a failure'}`, { origin: 'qemu' });
        }
        if (m.status === 'cancelled') throw abortError();
        if (!cancelling && (await aborted())) {
          cancelling = true;
          await qmp.execute('migrate_cancel');
          continue;
        }
        if (tunnelError !== undefined && !cancelling) {
          // A broken tunnel (the destination went away) shows here before QEMU notices.
          cancelling = true;
          await qmp.execute('migrate_cancel');
          continue;
        }
        const active = m.status === 'active' || m.status === 'device' || m.status === 'pre-switchover';
        if (active && !postcopyAsked && f.postcopy && f.postcopyAfterPrecopy && (m.ram?.['dirty-sync-count'] ?? 0) >= 2) {
          postcopyAsked = true;
          await qmp.execute('migrate-start-postcopy');
        }
        if (active && !timedOut && f.timeoutMs !== undefined && Date.now() - started > f.timeoutMs) {
          timedOut = true;
          if ((f.timeoutAction ?? 'suspend') === 'postcopy') {
            if (!postcopyAsked) {
              postcopyAsked = true;
              await qmp.execute('migrate-start-postcopy');
            }
          } else if (!pausedForMigration) {
            // --timeout-suspend: the guest stops, the rest of its memory moves at once.
            await qmp.execute('stop');
            pausedForMigration = true;
            d.ctx.emit('suspended', 'migrated', dom);
          }
        }
      }
      const postcopy = final.status === 'postcopy-active';
      if (tunnelDone && !postcopy) await tunnelDone;
      // The source guest is paused now (QEMU stopped its vCPUs to switch over).
      await d.ctx.store.writeRecord({ ...j.record, state: 'paused', reason: postcopy ? 'postcopy' : 'migration', migration: await ownMark('out', { wasRunning }) });
      if (!pausedForMigration) d.ctx.emit('suspended', postcopy ? 'postcopy' : 'migrated', dom);
      if (mirrors && !postcopy) await mirrors.stop(false);
      const stats: DomainJobInfo = { ...job.snapshot(), ...jobStatsOf(final), type: postcopy ? 'unbounded' : 'completed' };
      outgoing.set(outKey(d, uuid), { job, ...(mirrors ? { mirrors } : {}), postcopy, wasRunning });
      if (!postcopy) await job.end('completed', stats);
      return { stats, ...(postcopy ? { postcopy: true } : {}) };
    } catch (err) {
      const cancelled = err instanceof VirtError && err.code === 'OPERATION_ABORTED';
      await rollBackSource(d, j, { wasRunning, ...(mirrors ? { mirrors } : {}) }).catch(() => {});
      await job.end(cancelled ? 'cancelled' : 'failed', { errorMessage: (err as Error).message });
      throw err;
    } finally {
      watch.close();
      server?.close();
    }
  });
}

/**
 * virDomainMigrateConfirm3: after success the source QEMU ends (stopped,
 * migrated) and, with `undefineSource`, the definition goes; after a
 * failure whatever still runs is cancelled and the guest runs on here.
 */
export async function migrateConfirm(d: QemuDomains, uuid: string, params: MigrationConfirmParams): Promise<void> {
  const f = params.flags;
  const out = outgoing.get(outKey(d, uuid));
  outgoing.delete(outKey(d, uuid));
  await d.job(uuid, 'migrate-confirm', async (v) => {
    const dom = { name: v.name, uuid, id: isActive(v) ? v.record.id : -1 };
    if (f.offline) {
      if (!params.cancelled && f.undefineSource && v.config) {
        await d.ctx.store.removeDefinition(v.name);
        if (!isActive(v)) await d.ctx.store.removeRecord(v.name);
        d.ctx.emit('undefined', 'removed', dom);
      }
      return;
    }
    if (!isActive(v)) {
      if (params.cancelled) return;
      throw invalid(`domain '${v.name}' is not running: nothing to confirm`);
    }
    if (params.cancelled) {
      await d.activeJob(uuid, 'migrate-confirm', async (j) => {
        await rollBackSource(d, j, { wasRunning: out?.wasRunning ?? j.record.migration?.wasRunning ?? false, ...(out?.mirrors ? { mirrors: out.mirrors } : {}) });
      });
      if (out?.postcopy) await out.job.end('failed', { errorMessage: 'the destination failed during post-copy' });
      return;
    }
    await d.activeJob(uuid, 'migrate-confirm', async (j) => {
      if (out?.postcopy) {
        // Post-copy: the destination runs the guest and pulls the last pages; the source must live until it has them.
        const watch = new MigrationWatch(j.qmp);
        try {
          for (;;) {
            const m = await watch.next(50);
            out.job.update(jobStatsOf(m));
            if (m.status === 'completed') break;
            if (m.status === 'failed' || m.status === 'postcopy-paused') {
              throw new VirtError('OPERATION_FAILED', `domain '${v.name}': post-copy migration failed (${m['error-desc'] ?? m.status}); the guest is paused on the destination`, { origin: 'qemu' });
            }
          }
        } finally {
          watch.close();
        }
        await out.job.end('completed');
      }
      await j.proc.destroy();
    });
    const rec = (await d.ctx.store.readRecord(v.name)) ?? v.record;
    const { migration: _m, ...clean } = rec;
    void _m;
    await d.recordStop(clean, { reason: 'migrated', detail: 'migrated' });
    if (f.undefineSource && v.config) {
      await d.ctx.store.removeDefinition(v.name);
      await d.ctx.store.removeRecord(v.name);
      d.ctx.emit('undefined', 'removed', dom);
    }
  });
}

/** virDomainMigrateStartPostCopy: the running migration switches to post-copy. */
export async function migrateStartPostCopy(d: QemuDomains, uuid: string): Promise<void> {
  const job = runningJob(d, uuid);
  if (!job || job.snapshot().operation !== 'migration-out') {
    const v = await d.views.byUuid(uuid);
    throw invalid(`no outgoing migration runs for domain '${v.name}'`);
  }
  // The migration job holds the monitor connection; commands on it may overlap (QMP ids).
  const v = await d.views.byUuid(uuid);
  if (!isActive(v)) throw invalid(`domain '${v.name}' is not running`);
  const proc = monitors.known(v.record.process);
  const qmp = proc?.qmp;
  if (!qmp?.isOpen) throw invalid(`domain '${v.name}': the migration's monitor is not in this process`);
  try {
    await qmp.execute('migrate-start-postcopy');
  } catch (err) {
    throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${v.name}': cannot switch to post-copy (was the migration started with --postcopy?): ${(err as Error).message}`, { origin: 'qemu', cause: err });
  }
}
