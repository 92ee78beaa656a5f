import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import {
  formatDomainXml, parseDomainXml, requireKnownXml, VirtError,
  type DeviceChangeOptions, type DomainDef, type DomainDefineOptions, type DomainDriver, type DomainInfo, type DomainJobInfo, type DomainKey,
  type DomainSaveOptions, type DomainShutdownOptions, type DomainStartOptions, type DomainState, type DomainStats, type DomainSummary,
  type DomainUndefineOptions, type DomainXmlOptions, type JobContext, type MigrationBegun, type MigrationConfirmParams, type MigrationFinishParams,
  type MigrationFlags, type MigrationPerformed, type MigrationPerformParams, type MigrationPrepared, type MigrationPrepareParams, type ShutdownMode,
} from '@virtkit/core';
import type { Readable } from 'node:stream';
import type { QmpClient } from '../qmp/client.js';
import { QmpCommandError } from '../qmp/errors.js';
import { QemuProcess, type QemuExitInfo, type QemuRuntimeState } from '../process/qemu-process.js';
import { openDomainConsole } from './console.js';
import type { QemuDriverContext } from './context.js';
import { attachDeviceTo, detachDeviceFrom, updateDeviceOf } from './hotplug.js';
import { cleanupRun, launchDomain, type LaunchRequest } from './launch.js';
import { tryWithLock, withLock } from './locks.js';
import { monitors } from './monitors.js';
import { QemuPaths } from './paths.js';
import { isActiveRecord, type DomainRecord } from './record.js';
import { planRunStateFix, type QemuStatus, type RunStateFix, type StateEvent } from './run-state.js';
import { abortDomainJob, domainJobInfo, runningJob } from './jobs.js';
import { restoreFromFile, saveToFile } from './save.js';
import { setDomainMemory, setDomainVcpus } from './resources.js';
import { domainStats, cpuTimeNs } from './stats.js';
import { currentDef, DomainViews, isActive, type DomainView } from './views.js';
import { xmlToNative } from './native.js';
import { migrateFinish, migrateIncoming, migratePrepare, recoverMigration } from './migration/destination.js';
import { markOwnerAlive } from './migration/mark.js';
import { removeVolumes } from './migration/storage.js';
import { migratePeerToPeer } from './migration/peer2peer.js';
import { migrateBegin, migrateConfirm, migratePerform, migrateStartPostCopy } from './migration/source.js';

/** How a run ended, in libvirt's words. */
interface StopOutcome {
  reason: 'shutdown' | 'destroyed' | 'crashed' | 'saved' | 'failed' | 'migrated';
  detail: 'shutdown' | 'destroyed' | 'crashed' | 'saved' | 'failed' | 'migrated';
  /** Emit a `shutdown` event first (guest- or host-requested). */
  shutdown?: 'guest' | 'host';
}

function outcomeOf(info: QemuExitInfo): StopOutcome {
  if (info.cause === 'destroyed') return { reason: 'destroyed', detail: 'destroyed' };
  if (info.cause === 'shutdown') return { reason: 'shutdown', detail: 'shutdown', shutdown: info.shutdown?.guest ? 'guest' : 'host' };
  return { reason: 'crashed', detail: 'failed' };
}

/** How long a look at a domain waits for QEMU's monitor to tell its run state (run-state.ts). */
const RUN_STATE_CHECK_MS = 2000;

/** While `shutdown` waits, the power button is pressed again this often. */
const ACPI_REPRESS_MS = 2000;

const runKey = (s: Pick<QemuRuntimeState, 'pid' | 'startTime'>) => `${s.pid}:${s.startTime}`;

function invalid(msg: string): VirtError {
  return new VirtError('OPERATION_INVALID', `Requested operation is not valid: ${msg}`, { origin: 'qemu' });
}

/** A running domain inside a job: its view, record and monitor. */
export interface ActiveJob {
  view: DomainView & { record: DomainRecord & { process: QemuRuntimeState }; live: DomainDef };
  record: DomainRecord & { process: QemuRuntimeState };
  live: DomainDef;
  qmp: QmpClient;
  proc: QemuProcess;
}

/**
 * The QEMU driver's domains: libvirt's qemu_driver.c without a daemon.
 * Every change runs under the domain's lock file (cross-process), reads the
 * state from the files, acts (connecting the monitor only for the job) and
 * writes the state back.
 */
export class QemuDomains implements DomainDriver {
  readonly views: DomainViews;
  /** Runs whose stop this process already recorded or announced. */
  private readonly announced = new Set<string>();
  private readonly onExit = (state: QemuRuntimeState, info: QemuExitInfo) => void this.handleExit(state, info).catch(() => {});
  private closed = false;
  private readonly recovering = new Set<string>();

  constructor(readonly ctx: QemuDriverContext) {
    this.views = new DomainViews(ctx, (v) => this.reap(v), (v) => this.recoverOrphanedMigration(v));
  }

  get paths(): QemuPaths {
    return this.ctx.paths;
  }

  close(): void {
    this.closed = true;
    monitors.unwatch(this.onExit);
  }

  // ------------------------------------------------------------ locking and jobs

  /** Runs `fn` holding the domain's lock. */
  lockDomain<T>(uuid: string, what: string, fn: () => Promise<T>): Promise<T> {
    return withLock(this.paths.domainLock(uuid), `domain ${uuid} (${what})`, fn);
  }

  /** Runs `fn` holding the lock on the set of domains (names, uuids). */
  lockDriver<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withLock(this.paths.driverLock, `the QEMU domain list (${what})`, fn);
  }

  /** A job on a domain, under its lock, with its current view. */
  job<T>(uuid: string, what: string, fn: (v: DomainView) => Promise<T>): Promise<T> {
    return this.lockDomain(uuid, what, async () => fn(await this.views.byUuid(uuid)));
  }

  /** A job on a running domain, with its monitor connected for the job's length. */
  activeJob<T>(uuid: string, what: string, fn: (j: ActiveJob) => Promise<T>): Promise<T> {
    return this.job(uuid, what, async (v0) => {
      // A record this process does not know is checked against QEMU first (run-state.ts).
      const v = (await this.checkRunState(v0)) ?? { name: v0.name, uuid: v0.uuid };
      if (!isActive(v)) throw invalid(`domain '${v.name}' is not running`);
      const m = await monitors.monitor(v.record.process);
      try {
        return await fn({ view: v, record: v.record, live: v.live, qmp: m.qmp, proc: m.proc });
      } finally {
        await m.release();
      }
    });
  }

  async parserConfigFor(def: DomainDef | undefined) {
    return this.ctx.parserConfig(def?.devices.emulator);
  }

  /** Writes a changed live definition (and record). */
  async saveLive(live: DomainDef, record?: DomainRecord): Promise<void> {
    const config = await this.parserConfigFor(live);
    await this.ctx.store.writeLive(live, config);
    if (record) await this.ctx.store.writeRecord(record);
  }

  async saveConfig(def: DomainDef): Promise<void> {
    await this.ctx.store.writeDefinition(def, await this.parserConfigFor(def));
  }

  /** Parses domain XML with the QEMU driver's defaults (define-time post-parse, addresses, validation). */
  async parse(xml: string, opts: { inactive?: boolean; validate?: boolean; what?: string } = {}): Promise<DomainDef> {
    const emulator = /<emulator>\s*([^<\s]*)\s*<\/emulator>/.exec(xml)?.[1];
    const config = await this.ctx.parserConfig(emulator);
    const def = parseDomainXml(xml, { config, inactive: opts.inactive ?? true, ...(opts.what ? { what: opts.what } : {}) });
    if (def.type !== 'qemu' && def.type !== 'kvm') {
      throw new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': unsupported domain type '${def.type}' for the QEMU driver (use 'qemu' or 'kvm')`, { origin: 'qemu' });
    }
    QemuPaths.checkName(def.name);
    if (opts.validate) requireKnownXml(def, `domain '${def.name}'`, 'qemu');
    return def;
  }

  // ------------------------------------------------------------ noticing exits

  /** Watches a running domain's QEMU so its end is recorded and announced by this process. */
  watchRun(v: DomainView): void {
    this.watch(v);
  }

  private watch(v: DomainView): void {
    if (this.closed || !isActiveRecord(v.record)) return;
    void monitors.watch(v.record.process, this.onExit).catch(() => {});
  }

  /** A run ended and this process noticed: record it unless someone did, and announce it once. */
  private async handleExit(state: QemuRuntimeState, info: QemuExitInfo): Promise<void> {
    const key = runKey(state);
    if (this.announced.has(key)) return;
    await this.lockDomain(state.uuid, 'record exit', async () => {
      if (this.announced.has(key)) return;
      const rec = await this.ctx.store.readRecord(state.name);
      const outcome = outcomeOf(info);
      if (rec?.process && runKey(rec.process) === key) await this.recordStop(rec, outcome);
      else this.announceStop({ name: state.name, uuid: state.uuid, id: -1 }, key, outcome);
    });
  }

  /** The next process that looks: a migration whose driving process died is undone (incoming removed, outgoing resumed). */
  private async recoverOrphanedMigration(v: DomainView): Promise<boolean> {
    const mark = v.record?.migration;
    // The recovery itself reads the domain again: it must not start over.
    if (!mark || this.recovering.has(v.uuid) || (await markOwnerAlive(mark))) return false;
    this.recovering.add(v.uuid);
    try {
      await this.lockDomain(v.uuid, 'recover migration', async () => {
        const cur = await this.views.byNameRaw(v.name);
        const m = cur?.record?.migration;
        if (!cur || !m || m.ownerPid !== mark.ownerPid || (await markOwnerAlive(m))) return;
        await recoverMigration(this, cur);
      });
    } finally {
      this.recovering.delete(v.uuid);
    }
    return true;
  }

  /** The next process that looks: a record says running but QEMU is gone. */
  private async reap(v: DomainView): Promise<void> {
    if (!isActiveRecord(v.record)) return;
    const st = v.record.process;
    await this.lockDomain(v.uuid, 'record exit', async () => {
      const rec = await this.ctx.store.readRecord(v.name);
      if (!rec?.process || runKey(rec.process) !== runKey(st)) return;
      if (await QemuProcess.isRunning(rec.process)) return;
      const proc = QemuProcess.detached(rec.process);
      proc.watch();
      await this.recordStop(rec, outcomeOf(await proc.exited));
    });
  }

  private announceStop(dom: { name: string; uuid: string; id: number }, key: string, o: StopOutcome): void {
    this.announced.add(key);
    if (o.shutdown) this.ctx.emit('shutdown', o.shutdown === 'guest' ? 'guest' : 'host', dom);
    this.ctx.emit('stopped', o.detail, dom);
  }

  /** Records a stopped run (under the domain lock): cleanup, state file, events. */
  async recordStop(rec: DomainRecord, o: StopOutcome): Promise<void> {
    const key = rec.process ? runKey(rec.process) : undefined;
    // An incoming migration that ended before it finished: the disks created for it go too.
    if (rec.migration?.role === 'in') {
      await removeVolumes(this.ctx, rec.migration.createdVolumes);
      const job = runningJob(this, rec.uuid);
      if (job?.snapshot().operation === 'migration-in') await job.end('failed', { errorMessage: 'the incoming migration did not finish' });
    }
    await Promise.all([
      cleanupRun(this.ctx, rec),
      rec.persistent
        ? this.ctx.store.writeRecord({ format: 1, name: rec.name, uuid: rec.uuid, id: -1, state: 'shutoff', reason: o.reason, persistent: true })
        : this.ctx.store.removeRecord(rec.name),
    ]);
    if (key) this.announceStop({ name: rec.name, uuid: rec.uuid, id: rec.id }, key, o);
  }

  // ------------------------------------------------------------ QEMU's run state against the record

  /**
   * What libvirt does when it reconnects to a running guest
   * (qemuProcessUpdateState): a running domain whose record this process
   * did not write or check itself is compared with QEMU's `query-status`,
   * and the record, the reported state and reason are corrected, with the
   * event of the change. Without a daemon nobody hears QEMU's STOP and
   * RESUME between jobs, and a process may have died between a command and
   * its record. Skipped while another job holds the domain (it writes the
   * record). Returns the view as it is now (undefined: the domain is gone).
   */
  async checkRunState(v: DomainView): Promise<DomainView | undefined> {
    if (!this.needsRunStateCheck(v)) return v;
    const checked = await tryWithLock(this.paths.domainLock(v.uuid), `domain ${v.uuid} (check state)`, () => this.fixRunState(v.name));
    return checked ? this.views.byNameRaw(v.name) : v;
  }

  private needsRunStateCheck(v: DomainView | undefined): v is ActiveJob['view'] {
    return !!v && isActive(v) && !v.record.migration && !this.ctx.store.isKnownRecord(v.record);
  }

  /** Under the domain lock: asks QEMU and applies the fix. True when the record was looked at. */
  private async fixRunState(name: string): Promise<boolean> {
    const cur = await this.views.byNameRaw(name);
    if (!this.needsRunStateCheck(cur)) return true;
    // QEMU gone or not answering: the liveness check records a dead one; the next look asks again. A hung
    // QEMU must not hold up a lookup (or the destroy behind it) for long.
    const m = await monitors.monitor(cur.record.process, { timeoutMs: RUN_STATE_CHECK_MS }).catch(() => undefined);
    if (!m) return false;
    try {
      const status = await m.qmp.execute<QemuStatus>('query-status', undefined, { timeoutMs: RUN_STATE_CHECK_MS });
      await this.applyRunStateFix(cur, m.qmp, m.proc, planRunStateFix(cur.record, status));
      return true;
    } catch {
      return false;
    } finally {
      await m.release();
    }
  }

  private async applyRunStateFix(v: ActiveJob['view'], qmp: QmpClient, proc: QemuProcess, fix: RunStateFix): Promise<void> {
    const rec = v.record;
    const dom = { name: v.name, uuid: v.uuid, id: rec.id };
    switch (fix.kind) {
      case 'none':
        this.ctx.store.trustRecord(rec);
        return;
      case 'record':
        await this.ctx.store.writeRecord({ ...rec, state: fix.state, reason: fix.reason });
        this.emitStateEvent(fix.event, dom);
        return;
      case 'kill':
        // libvirt: "Domain wasn't fully started yet, killing it".
        await proc.destroy();
        await this.recordStop(rec, { reason: 'failed', detail: 'failed' });
        return;
      case 'poweroff':
        // QEMU is kept after a guest power-off only by a reboot's shutdown action; its process is gone.
        await proc.destroy();
        await this.recordStop(rec, { reason: 'shutdown', detail: 'shutdown', shutdown: 'guest' });
        return;
      case 'cancel-save':
        // qemuProcessRecoverJob for a save: cancel the migration to the file, resume the guest paused for it.
        await qmp.execute('migrate_cancel').catch(() => {});
        await this.ctx.store.writeRecord({ ...rec, state: 'running', reason: 'unpaused' });
        if (fix.paused) await qmp.execute('cont');
        this.emitStateEvent({ type: 'resumed', detail: 'unpaused' }, dom);
        return;
    }
  }

  private emitStateEvent(e: StateEvent, dom: { name: string; uuid: string; id: number }): void {
    switch (e.type) {
      case 'started': return this.ctx.emit('started', e.detail, dom);
      case 'suspended': return this.ctx.emit('suspended', e.detail, dom);
      case 'resumed': return this.ctx.emit('resumed', e.detail, dom);
      case 'crashed': return this.ctx.emit('crashed', e.detail, dom);
      case 'pmsuspended': return this.ctx.emit('pmsuspended', e.detail, dom);
    }
  }

  // ------------------------------------------------------------ listing

  private async summaryOf(v0: DomainView): Promise<DomainSummary> {
    // The state reported is QEMU's (checked when this process does not know the record); a domain that just
    // went away (a start that never finished, ended now) reads as shut off.
    const v = (await this.checkRunState(v0)) ?? { name: v0.name, uuid: v0.uuid, ...(v0.config ? { config: v0.config } : {}) };
    const [autostart, managedSave] = v.config ? await Promise.all([this.ctx.store.autostart(v.name), this.ctx.store.hasManagedSave(v.name)]) : [false, false];
    if (isActive(v)) this.watch(v);
    return this.views.summary(v, autostart, managedSave);
  }

  async listDomains(): Promise<DomainSummary[]> {
    const views = await this.views.all();
    return Promise.all(views.map((v) => this.summaryOf(v)));
  }

  async lookupDomain(key: DomainKey): Promise<DomainSummary> {
    return this.summaryOf(await this.views.find(key));
  }

  // ------------------------------------------------------------ define / undefine

  async defineDomain(xml: string, opts: DomainDefineOptions = {}): Promise<DomainSummary> {
    const def = await this.parse(xml, { validate: opts.validate });
    const { updated } = await this.lockDriver('define', async () => {
      const sameName = await this.views.byName(def.name);
      if (sameName && sameName.uuid !== def.uuid) {
        throw new VirtError('DOM_EXIST', `domain '${def.name}' already exists with uuid ${sameName.uuid}`, { origin: 'qemu' });
      }
      if (!sameName) {
        const sameUuid = (await this.views.all()).find((v) => v.uuid === def.uuid);
        if (sameUuid) throw new VirtError('OPERATION_FAILED', `domain '${sameUuid.name}' is already defined with uuid ${def.uuid}`, { origin: 'qemu' });
      }
      return this.lockDomain(def.uuid, 'define', async () => {
        const cur = await this.views.byNameRaw(def.name);
        await this.saveConfig(def);
        if (cur?.record && !cur.record.persistent) await this.ctx.store.writeRecord({ ...cur.record, persistent: true });
        return { updated: !!cur?.config };
      });
    });
    const v = (await this.views.byName(def.name))!;
    this.ctx.emit('defined', updated ? 'updated' : 'added', { name: def.name, uuid: def.uuid, id: isActive(v) ? v.record.id : -1 });
    return this.summaryOf(v);
  }

  async undefineDomain(uuid: string, opts: DomainUndefineOptions = {}): Promise<void> {
    const v0 = await this.views.byUuid(uuid);
    await this.lockDriver('undefine', () =>
      this.job(uuid, 'undefine', async (v) => {
        if (!v.config) throw invalid(`cannot undefine transient domain '${v.name}'`);
        if (await this.ctx.store.hasManagedSave(v.name)) {
          if (!opts.managedSave) throw invalid(`Refusing to undefine while domain managed save image exists (domain '${v.name}')`);
          const { unlink } = await import('node:fs/promises');
          await unlink(this.paths.managedSave(v.name)).catch(() => {});
        }
        await this.ctx.store.removeDefinition(v.name);
        if (isActive(v)) await this.ctx.store.writeRecord({ ...v.record, persistent: false });
        else await this.ctx.store.removeRecord(v.name);
      }),
    );
    this.ctx.emit('undefined', 'removed', { name: v0.name, uuid, id: isActive(v0) ? v0.record.id : -1 });
  }

  // ------------------------------------------------------------ start

  /** Starts a domain from a definition; the caller holds the domain lock. */
  async launch(req: LaunchRequest, event: { type: 'started'; detail: 'booted' | 'restored' }): Promise<void> {
    const { record, proc } = await launchDomain(this.ctx, req);
    // The job is done: the monitor is freed for the next process soon (DESIGN.md, monitor ownership).
    monitors.release(proc);
    const dom = { name: record.name, uuid: record.uuid, id: record.id };
    this.ctx.emit('started', event.detail, dom);
    if (req.paused) this.ctx.emit('suspended', event.detail === 'restored' ? 'restored' : 'paused', dom);
    this.watch({ name: record.name, uuid: record.uuid, record });
  }

  async createDomain(xml: string, opts: DomainStartOptions = {}): Promise<DomainSummary> {
    const def = await this.parse(xml, { validate: opts.validate });
    await this.lockDriver('create', async () => {
      const sameName = await this.views.byName(def.name);
      if (sameName && sameName.uuid !== def.uuid) throw new VirtError('DOM_EXIST', `domain '${def.name}' already exists with uuid ${sameName.uuid}`, { origin: 'qemu' });
      if (!sameName) {
        const sameUuid = (await this.views.all()).find((v) => v.uuid === def.uuid);
        if (sameUuid) throw new VirtError('DOM_EXIST', `domain '${sameUuid.name}' already exists with uuid ${def.uuid}`, { origin: 'qemu' });
      }
      await this.lockDomain(def.uuid, 'create', async () => {
        const cur = await this.views.byName(def.name);
        if (cur && isActive(cur)) throw invalid(`domain '${def.name}' is already running`);
        await this.launch(
          { def, persistent: !!cur?.config, paused: !!opts.paused, runningReason: 'booted', pausedReason: 'user', ...(cur?.record ? { previous: cur.record } : {}) },
          { type: 'started', detail: 'booted' },
        );
      });
    });
    return this.summaryOf((await this.views.byName(def.name))!);
  }

  async startDomain(uuid: string, opts: DomainStartOptions = {}): Promise<void> {
    await this.job(uuid, 'start', async (v) => {
      if (isActive(v)) throw invalid(`domain '${v.name}' is already running`);
      if (!v.config) throw new VirtError('NO_DOMAIN', `domain '${v.name}' has no definition`, { origin: 'qemu' });
      const saved = this.paths.managedSave(v.name);
      if (await this.ctx.store.hasManagedSave(v.name)) {
        if (opts.forceBoot) {
          const { unlink } = await import('node:fs/promises');
          await unlink(saved).catch(() => {});
        } else {
          // libvirt starts a domain with a managed save image from it, then drops the image.
          await restoreFromFile(this, saved, { ...(opts.paused ? { startAs: 'paused' } : {}) }, undefined, { managed: v });
          const { unlink } = await import('node:fs/promises');
          await unlink(saved).catch(() => {});
          return;
        }
      }
      await this.launch(
        { def: v.config, persistent: true, paused: !!opts.paused, runningReason: 'booted', pausedReason: 'user', ...(v.record ? { previous: v.record } : {}) },
        { type: 'started', detail: 'booted' },
      );
    });
  }

  // ------------------------------------------------------------ stop

  async destroyDomain(uuid: string, opts: { graceful?: boolean } = {}): Promise<void> {
    await this.job(uuid, 'destroy', async (v) => {
      if (!isActive(v)) throw invalid(`domain '${v.name}' is not running`);
      const rec = v.record;
      const proc = monitors.known(rec.process) ?? QemuProcess.detached(rec.process);
      const info = await proc.destroy({ graceMs: opts.graceful ? 10_000 : 1000 }).catch(async (err: unknown) => {
        if (opts.graceful) throw new VirtError('OPERATION_FAILED', `domain '${v.name}': QEMU did not end on SIGTERM (graceful destroy)`, { origin: 'qemu', cause: err });
        throw err;
      });
      void info;
      await this.recordStop(rec, { reason: 'destroyed', detail: 'destroyed' });
    });
  }

  async shutdownDomain(uuid: string, opts: DomainShutdownOptions = {}): Promise<void> {
    const modes = opts.modes?.length ? opts.modes : (['acpi'] as ShutdownMode[]);
    for (const m of modes) {
      if (m !== 'acpi' && m !== 'agent') {
        throw new VirtError('ARGUMENT_UNSUPPORTED', `shutdown mode '${m}' is not supported by the QEMU driver (use acpi or agent)`, { origin: 'qemu' });
      }
    }
    let proc: QemuProcess | undefined;
    let rec: DomainRecord | undefined;
    await this.activeJob(uuid, 'shutdown', async (j) => {
      if (modes.includes('acpi')) {
        await j.qmp.execute('system_powerdown');
      } else if (!j.live.devices.channels.some((c) => c.name === 'org.qemu.guest_agent.0')) {
        throw new VirtError('ARGUMENT_UNSUPPORTED', `domain '${j.view.name}': shutdown mode 'agent' needs a guest agent channel (org.qemu.guest_agent.0)`, { origin: 'qemu' });
      } else {
        throw new VirtError('AGENT_UNRESPONSIVE', `domain '${j.view.name}': the QEMU guest agent is not supported by virtkit yet; use --mode acpi`, { origin: 'qemu' });
      }
      proc = j.proc;
      rec = j.record;
    });
    if (!opts.waitMs || !proc || !rec) return;
    // Wait outside the job: a guest's power-off may take long, and others may look meanwhile.
    const exiting = proc;
    const state = rec.process!;
    exiting.watch(50);
    // A guest still booting misses an early power button press (its ACPI
    // driver is not loaded yet): while waiting, press it again now and then.
    const repress = setInterval(() => {
      void monitors.monitor(state).then(async (m) => {
        try {
          await m.qmp.execute('system_powerdown');
        } finally {
          await m.release();
        }
      }).catch(() => {});
    }, ACPI_REPRESS_MS);
    // A referenced timer: the caller (maybe a CLI) is waiting, Node must not exit meanwhile.
    let timer: NodeJS.Timeout | undefined;
    const info = await Promise.race([exiting.exited, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), opts.waitMs)))]);
    clearTimeout(timer);
    clearInterval(repress);
    if (!info) {
      throw new VirtError('OPERATION_TIMEOUT', `domain '${rec.name}' did not power off within ${Math.round(opts.waitMs / 1000)} s after the ACPI power button`, { origin: 'qemu' });
    }
    await this.handleExit(state, info);
  }

  async rebootDomain(uuid: string, opts: { modes?: ShutdownMode[] } = {}): Promise<void> {
    const modes = opts.modes?.length ? opts.modes : (['acpi'] as ShutdownMode[]);
    if (!modes.includes('acpi')) throw new VirtError('ARGUMENT_UNSUPPORTED', `reboot mode '${modes.join(',')}' is not supported by the QEMU driver (use acpi)`, { origin: 'qemu' });
    await this.activeJob(uuid, 'reboot', async (j) => {
      // libvirt's "fake reboot": power the guest down, then reset it instead of letting QEMU end.
      // (With <on_reboot>destroy</on_reboot> QEMU runs with -no-reboot, which turns the reset into a shutdown: not for this one.)
      await j.qmp.execute('set-action', { shutdown: 'pause', reboot: 'reset' });
      try {
        const down = j.qmp.waitForEvent('SHUTDOWN', { timeoutMs: 60_000 });
        await j.qmp.execute('system_powerdown');
        await down.catch((err: unknown) => {
          throw new VirtError('OPERATION_TIMEOUT', `domain '${j.view.name}' did not power off within 60 s for the reboot (does it handle the ACPI power button?)`, { origin: 'qemu', cause: err });
        });
        await j.qmp.execute('system_reset');
        await j.qmp.execute('cont');
      } finally {
        await j.qmp.execute('set-action', { shutdown: 'poweroff', reboot: j.live.lifecycle.onReboot === 'destroy' ? 'shutdown' : 'reset' }).catch(() => {});
      }
      this.ctx.emitOther('reboot', { name: j.view.name, uuid, id: j.record.id });
    });
  }

  async resetDomain(uuid: string): Promise<void> {
    await this.activeJob(uuid, 'reset', async (j) => {
      await j.qmp.execute('system_reset');
      this.ctx.emitOther('reboot', { name: j.view.name, uuid, id: j.record.id });
    });
  }

  /**
   * Runs a state-changing QMP command with the record it leads to written
   * first. A process that dies in between leaves a record that no other
   * process knows (each write has its own stamp), so the next one to look
   * asks QEMU and corrects it (checkRunState); if QEMU refuses, the record
   * goes back.
   */
  private async commandWithRecord(j: ActiveJob, command: string, next: DomainRecord): Promise<void> {
    await this.ctx.store.writeRecord(next);
    try {
      await j.qmp.execute(command);
    } catch (err) {
      await this.ctx.store.writeRecord(j.record).catch(() => {});
      throw err;
    }
  }

  async suspendDomain(uuid: string): Promise<void> {
    await this.activeJob(uuid, 'suspend', async (j) => {
      if (j.record.state === 'pmsuspended') throw invalid(`domain '${j.view.name}' is pmsuspended`);
      if (j.record.state === 'paused') return;
      await this.commandWithRecord(j, 'stop', { ...j.record, state: 'paused', reason: 'user' });
      this.ctx.emit('suspended', 'paused', { name: j.view.name, uuid, id: j.record.id });
    });
  }

  async resumeDomain(uuid: string): Promise<void> {
    await this.activeJob(uuid, 'resume', async (j) => {
      const { state, reason } = j.record;
      if (state === 'pmsuspended') throw invalid(`domain '${j.view.name}' is pmsuspended`);
      // As libvirt, a guest paused by its panic can be resumed too.
      if (state !== 'paused' && !(state === 'crashed' && reason === 'panicked')) throw invalid(`domain '${j.view.name}' is not paused`);
      await this.commandWithRecord(j, 'cont', { ...j.record, state: 'running', reason: 'unpaused' });
      this.ctx.emit('resumed', 'unpaused', { name: j.view.name, uuid, id: j.record.id });
    });
  }

  // ------------------------------------------------------------ monitor passthrough

  /** virDomainQemuMonitorCommand: QMP JSON (or an HMP line) passed to QEMU as is. */
  async qemuMonitorCommand(uuid: string, command: string, opts: { hmp?: boolean } = {}): Promise<string> {
    return this.activeJob(uuid, 'qemu-monitor-command', async (j) => {
      // The command may change what QEMU runs (stop, device_del, …): the next job checks QEMU's state again (run-state.ts).
      this.ctx.store.distrustRecord(j.view.name);
      if (opts.hmp) return j.qmp.execute<string>('human-monitor-command', { 'command-line': command });
      let msg: unknown;
      try {
        msg = JSON.parse(command);
      } catch (err) {
        throw new VirtError('INVALID_ARG', `domain '${j.view.name}': the monitor command is not JSON (${(err as Error).message}); use --hmp for a human monitor command`, { origin: 'qemu' });
      }
      const { execute, arguments: args } = (msg ?? {}) as { execute?: unknown; arguments?: unknown };
      if (typeof execute !== 'string' || (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args)))) {
        throw new VirtError('INVALID_ARG', `domain '${j.view.name}': a QMP command is {"execute": NAME, "arguments": {…}}`, { origin: 'qemu' });
      }
      try {
        return JSON.stringify({ return: await j.qmp.execute(execute, args as Record<string, unknown> | undefined) });
      } catch (err) {
        // QEMU's refusal is its answer, as libvirt passes it on.
        if (err instanceof QmpCommandError) return JSON.stringify({ error: { class: err.errorClass, desc: err.desc } });
        throw err;
      }
    });
  }

  // ------------------------------------------------------------ save / restore

  saveDomain(uuid: string, file: string, opts: DomainSaveOptions = {}, job?: JobContext): Promise<void> {
    return saveToFile(this, uuid, file, opts, job, false);
  }

  async restoreDomain(file: string, opts: DomainSaveOptions = {}, job?: JobContext): Promise<DomainSummary> {
    const name = await restoreFromFile(this, file, opts, job);
    return this.summaryOf((await this.views.byName(name))!);
  }

  async managedSaveDomain(uuid: string, opts: DomainSaveOptions = {}, job?: JobContext): Promise<void> {
    const v = await this.views.byUuid(uuid);
    if (!v.config) throw invalid(`cannot do managed save for transient domain '${v.name}'`);
    return saveToFile(this, uuid, this.paths.managedSave(v.name), opts, job, true);
  }

  async removeManagedSave(uuid: string): Promise<void> {
    await this.job(uuid, 'managedsave-remove', async (v) => {
      const { unlink } = await import('node:fs/promises');
      await unlink(this.paths.managedSave(v.name)).catch(() => {});
      const rec = await this.ctx.store.readRecord(v.name);
      if (rec && !isActiveRecord(rec) && rec.reason === 'saved') await this.ctx.store.writeRecord({ ...rec, reason: 'unknown' });
    });
  }

  getJobInfo(uuid: string, opts: { completed?: boolean } = {}): Promise<DomainJobInfo> {
    return domainJobInfo(this, uuid, opts);
  }

  abortJob(uuid: string): Promise<void> {
    return abortDomainJob(this, uuid);
  }

  // ------------------------------------------------------------ migration (migration/, docs/migration.md)

  migrate(uuid: string, destUri: string, flags: MigrationFlags = {}, job?: JobContext): Promise<void> {
    const j = job ?? (flags as JobContext);
    return migratePeerToPeer(this, uuid, destUri, flags, j);
  }

  migrateBegin(uuid: string, flags: MigrationFlags): Promise<MigrationBegun> {
    return migrateBegin(this, uuid, flags ?? {});
  }

  migratePrepare(xml: string, params: MigrationPrepareParams): Promise<MigrationPrepared> {
    return migratePrepare(this, xml, params);
  }

  migrateIncoming(uuid: string, data: Readable): Promise<void> {
    return migrateIncoming(this, uuid, data);
  }

  migratePerform(uuid: string, params: MigrationPerformParams, job?: JobContext): Promise<MigrationPerformed> {
    return migratePerform(this, uuid, params, job);
  }

  migrateFinish(uuid: string, params: MigrationFinishParams): Promise<DomainSummary | null> {
    return migrateFinish(this, uuid, params);
  }

  migrateConfirm(uuid: string, params: MigrationConfirmParams): Promise<void> {
    return migrateConfirm(this, uuid, params);
  }

  migrateStartPostCopy(uuid: string): Promise<void> {
    return migrateStartPostCopy(this, uuid);
  }

  // ------------------------------------------------------------ autostart

  async setAutostart(uuid: string, autostart: boolean): Promise<void> {
    await this.job(uuid, 'autostart', async (v) => {
      if (!v.config) throw invalid(`cannot set autostart for transient domain '${v.name}'`);
      await this.ctx.store.setAutostart(v.name, autostart);
    });
  }

  // ------------------------------------------------------------ information

  async getXml(uuid: string, opts: DomainXmlOptions = {}): Promise<string> {
    const v = await this.views.byUuid(uuid);
    const inactive = !!opts.inactive || !isActive(v);
    const def = inactive ? (v.config ?? currentDef(v)) : currentDef(v);
    const config = await this.parserConfigFor(def);
    return formatDomainXml(def, { inactive, secure: !!opts.secure, migratable: !!opts.migratable, config });
  }

  async getState(uuid: string): Promise<{ state: DomainState; reason: string }> {
    const s = await this.lookupDomain({ uuid });
    return { state: s.state, reason: s.reason };
  }

  async getInfo(uuid: string): Promise<DomainInfo> {
    const v = await this.views.byUuid(uuid);
    const s = await this.summaryOf(v);
    const def = currentDef(v);
    const active = isActive(v);
    return {
      state: s.state,
      reason: s.reason,
      maxMemKiB: def.memory.total,
      memoryKiB: active ? def.memory.current || def.memory.total : def.memory.current || def.memory.total,
      vcpus: def.vcpu.current,
      cpuTimeNs: active ? await cpuTimeNs(v.record.process.pid) : 0,
      persistent: s.persistent,
      autostart: s.autostart,
      managedSave: s.managedSave,
      osType: def.os.type,
      securityModel: 'none',
    };
  }

  getStats(uuid: string, groups?: string[]): Promise<DomainStats> {
    return domainStats(this, uuid, groups);
  }

  // ------------------------------------------------------------ devices and resources

  attachDevice(uuid: string, xml: string, opts: DeviceChangeOptions = {}): Promise<void> {
    return attachDeviceTo(this, uuid, xml, opts);
  }

  detachDevice(uuid: string, xml: string, opts: DeviceChangeOptions = {}): Promise<void> {
    return detachDeviceFrom(this, uuid, xml, opts);
  }

  updateDevice(uuid: string, xml: string, opts: DeviceChangeOptions = {}): Promise<void> {
    return updateDeviceOf(this, uuid, xml, opts);
  }

  setMemory(uuid: string, kib: number, opts: DeviceChangeOptions & { maximum?: boolean } = {}): Promise<void> {
    return setDomainMemory(this, uuid, kib, opts);
  }

  setVcpus(uuid: string, count: number, opts: DeviceChangeOptions & { maximum?: boolean; guest?: boolean } = {}): Promise<void> {
    return setDomainVcpus(this, uuid, count, opts);
  }

  openConsole(uuid: string, opts: { device?: string; force?: boolean } = {}): Promise<Duplex> {
    return openDomainConsole(this, uuid, opts);
  }

  xmlToNative(format: string, xml: string): Promise<string> {
    return xmlToNative(this, format, xml);
  }

  /** libvirt's virDomainModificationImpact: which definitions a change applies to. */
  impact(v: DomainView, opts: DeviceChangeOptions): { live: boolean; config: boolean } {
    const active = isActive(v);
    let live = !!opts.live;
    let config = !!opts.config;
    if (!live && !config) {
      live = active;
      config = !active;
    }
    if (live && !active) throw invalid(`domain '${v.name}' is not running`);
    if (config && !v.config) throw invalid(`transient domains do not have any persistent config (domain '${v.name}')`);
    return { live, config };
  }

  static hostname(): string {
    return hostname();
  }
}
