/**
 * Xen domains through xl: persistent definitions are libvirt XML kept by
 * the driver; starting one writes its xl.cfg (the xen-xl conversion) and
 * runs `xl create`; the running set and its states come from `xl list`
 * and `xl list -l`, so guests started or stopped by other processes (or
 * by plain xl) are seen too.
 */
import { rm } from 'node:fs/promises';
import {
  domainEvent, FileLock, parseDomainXml, parseUri, postParseDomain, VirtError, emptyDevices, writeFileAtomic,
  type DeviceChangeOptions, type DiskDef, type DomainDef, type DomainDefineOptions, type DomainDriver, type DomainEventDetail,
  type DomainEventType, type DomainInfo, type DomainInterfaceDef, type DomainKey, type DomainMigrateOptions, type DomainSaveOptions,
  type DomainShutdownOptions, type DomainStartOptions, type DomainState, type DomainSummary, type DomainXmlOptions, type EventBus,
  type JobContext, type OsType,
} from '@virtkit/core';
import {
  domainDefToXl, formatVif, formatXenDomainXml, formatXlDiskSpec, parseXenDomainXml, xenParserConfig, xlToDomainXml, type XenConversionOptions,
} from './conversion/index.js';
import type { RuntimeRecord, XenStateStore } from './store.js';
import { parseXlList, parseXlListLong, stateFromFlags, type XlDomainDetails, type XlListRow } from './xl/output.js';
import type { XlRunner } from './xl/runner.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** A domain as the driver sees it at one moment: definition and/or running instance. */
interface DomainView {
  uuid: string;
  name: string;
  def?: DomainDef;
  run?: { row: XlListRow; details?: XlDomainDetails; record?: RuntimeRecord };
}

interface Snapshot {
  views: DomainView[];
  byUuid: Map<string, DomainView>;
}

/** The running state the event watcher compares. */
interface Seen {
  name: string;
  domid: number;
  state: DomainState;
}

/** Serialises the driver's xl state changes with the event watcher's polls. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => {});
    return p;
  }
}

export interface XenDomainDriverOptions {
  xl: XlRunner;
  store: XenStateStore;
  events: EventBus;
  conversion: () => XenConversionOptions;
  /** How often `xl list` is polled for state changes while someone listens (ms). */
  pollMs?: number;
}

function invalid(name: string, what: string): VirtError {
  return new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${name}' ${what}`, { origin: 'xen' });
}

function noDomain(key: DomainKey | string): VirtError {
  const what = typeof key === 'string' ? `uuid '${key}'` : 'name' in key ? `name '${key.name}'` : 'uuid' in key ? `uuid '${key.uuid}'` : `id ${key.id}`;
  return new VirtError('NO_DOMAIN', `Domain not found: no domain with matching ${what}`, { origin: 'xen' });
}

export class XenDomainDriver implements DomainDriver {
  private readonly xl: XlRunner;
  private readonly store: XenStateStore;
  private readonly events: EventBus;
  private readonly conv: () => XenConversionOptions;
  private readonly serial = new Serial();
  private seen: Map<string, Seen> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(opts: XenDomainDriverOptions) {
    this.xl = opts.xl;
    this.store = opts.store;
    this.events = opts.events;
    this.conv = opts.conversion;
    const pollMs = opts.pollMs ?? 1000;
    if (pollMs > 0) {
      this.timer = setInterval(() => {
        if (this.events.listenerCount() > 0) void this.serial.run(() => (this.closed ? Promise.resolve() : this.watch())).catch(() => {});
      }, pollMs);
      this.timer.unref();
    }
  }

  /** Stops the watcher and waits for a poll in flight, so no xl runs after the connection closed. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.serial.run(async () => {});
  }

  // ------------------------------------------------------------ state

  private parse(xml: string): DomainDef {
    return parseXenDomainXml(xml, this.conv());
  }

  private format(def: DomainDef, opts: { inactive: boolean; secure?: boolean }): string {
    return formatXenDomainXml(def, { ...this.conv(), inactive: opts.inactive, secure: opts.secure ?? false });
  }

  /** A definition for a guest virtkit did not start, from what `xl list -l` knows. */
  private synthesize(name: string, uuid: string, row: XlListRow, d: XlDomainDetails | undefined): DomainDef {
    const osType: OsType = d?.type === 'hvm' ? 'hvm' : d?.type === 'pvh' ? 'xenpvh' : 'xen';
    const maxKiB = d?.maxMemKiB || row.memMiB * 1024;
    const def: DomainDef = {
      type: 'xen', id: row.domid, name, uuid,
      memory: { total: maxKiB, current: d?.targetMemKiB || row.memMiB * 1024 },
      vcpu: { max: Math.max(d?.maxVcpus ?? 0, row.vcpus, 1), current: Math.max(row.vcpus, 1), placement: 'static' },
      iothreads: 0, iothreadids: [],
      os: { type: osType, initargs: [], initenv: [], bootDevs: [] },
      clock: { offset: 'utc', timers: [] },
      lifecycle: { onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy' },
      devices: emptyDevices(),
      seclabels: [],
    };
    const config = xenParserConfig(this.conv());
    postParseDomain(def, { inactive: false, config, opts: { config, skipValidate: true } });
    return def;
  }

  private async snapshot(): Promise<Snapshot> {
    const [listOut, longOut, defs, records] = await Promise.all([
      this.xl.run(['list'], 'list domains'),
      this.xl.run(['list', '-l'], 'list domains'),
      this.store.listDefs(),
      this.store.listRuntime(),
    ]);
    const rows = parseXlList(listOut.stdout);
    const details = parseXlListLong(longOut.stdout);
    const views: DomainView[] = [];
    const byUuid = new Map<string, DomainView>();
    const runningNames = new Set<string>();
    for (const row of rows) {
      const d = details.find((x) => x.domid === row.domid) ?? details.find((x) => x.name === row.name);
      const record = records.find((r) => r.name === row.name && (r.domid === row.domid || (d && r.uuid === d.uuid)));
      const uuid = d?.uuid || record?.uuid || (row.domid === 0 ? ZERO_UUID : '');
      if (!uuid) continue;
      runningNames.add(row.name);
      const v: DomainView = { uuid, name: row.name, run: { row, ...(d ? { details: d } : {}), ...(record ? { record } : {}) } };
      views.push(v);
      byUuid.set(uuid, v);
    }
    for (const def of defs) {
      const v = byUuid.get(def.uuid);
      if (v) v.def = def;
      else if (!runningNames.has(def.name)) {
        const nv: DomainView = { uuid: def.uuid, name: def.name, def };
        views.push(nv);
        byUuid.set(def.uuid, nv);
      }
    }
    // Records of guests that are gone (shut down from inside, destroyed by plain xl) are stale.
    for (const r of records) if (!runningNames.has(r.name)) await this.store.removeRuntime(r.name);
    return { views, byUuid };
  }

  private async view(uuid: string): Promise<DomainView> {
    const v = (await this.snapshot()).byUuid.get(uuid);
    if (!v) throw noDomain(uuid);
    return v;
  }

  private liveDef(v: DomainView): DomainDef {
    const run = v.run!;
    if (run.record) {
      try {
        const config = xenParserConfig(this.conv());
        const def = parseDomainXml(run.record.liveXml, { config, skipValidate: true });
        def.id = run.row.domid;
        return def;
      } catch {
        /* fall through to what xl knows */
      }
    }
    if (v.def) return { ...structuredClone(v.def), id: run.row.domid };
    return this.synthesize(v.name, v.uuid, run.row, run.details);
  }

  private async summary(v: DomainView): Promise<DomainSummary> {
    const st = v.run ? stateFromFlags(v.run.row.flags) : { state: 'shutoff' as DomainState, reason: 'unknown' };
    return {
      id: v.run ? v.run.row.domid : -1,
      name: v.name,
      uuid: v.uuid,
      state: st.state,
      reason: st.reason,
      persistent: !!v.def,
      autostart: v.def ? await this.store.isAutostart(v.name) : false,
      managedSave: false,
    };
  }

  private emit<T extends DomainEventType>(type: T, detail: DomainEventDetail<T>, who: { name: string; uuid: string; id: number }): void {
    this.events.emit(domainEvent(type, detail, who));
  }

  /** The running guests' states now (what the watcher compares against). */
  private async currentSeen(): Promise<Map<string, Seen>> {
    const snap = await this.snapshot();
    const m = new Map<string, Seen>();
    for (const v of snap.views) if (v.run) m.set(v.uuid, { name: v.name, domid: v.run.row.domid, state: stateFromFlags(v.run.row.flags).state });
    return m;
  }

  /** Emits lifecycle events for changes xl shows that this driver did not make itself. */
  private async watch(): Promise<void> {
    const now = await this.currentSeen();
    const before = this.seen;
    this.seen = now;
    if (!before) return;
    for (const [uuid, s] of now) {
      const b = before.get(uuid);
      const who = { name: s.name, uuid, id: s.domid };
      if (!b) {
        this.emit('started', 'booted', who);
        if (s.state === 'paused') this.emit('suspended', 'paused', who);
        continue;
      }
      if (b.domid !== s.domid) this.events.emit({ kind: 'domain-event', event: 'reboot', domain: who, timestamp: Date.now() });
      if (b.state === s.state) continue;
      if (s.state === 'paused') this.emit('suspended', 'paused', who);
      else if (s.state === 'running' && b.state === 'paused') this.emit('resumed', 'unpaused', who);
      else if (s.state === 'crashed') this.emit('stopped', 'crashed', who);
      else if (s.state === 'shutdown') this.emit('shutdown', 'finished', who);
    }
    for (const [uuid, b] of before) {
      if (!now.has(uuid)) this.emit('stopped', 'shutdown', { name: b.name, uuid, id: b.domid });
    }
  }

  /** Runs a state change with the watcher held off, then records the new state as seen. */
  private change<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial.run(async () => {
      try {
        return await fn();
      } finally {
        if (this.seen) this.seen = await this.currentSeen().catch(() => this.seen);
      }
    });
  }

  /** Cross-process exclusion for one domain (another virtkit process may act on it). */
  private locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return FileLock.with(this.store.lockPath(name.replace(/[^A-Za-z0-9_.-]/g, '_')), `domain '${name}'`, fn);
  }

  private requireRunning(v: DomainView, what: string): NonNullable<DomainView['run']> {
    if (!v.run) throw invalid(v.name, `is not running (${what})`);
    if (v.run.row.domid === 0) throw invalid(v.name, `is the control domain and cannot be ${what}`);
    return v.run;
  }

  /** Domains with the same name must have the same UUID, and the reverse (virDomainObjListAdd). */
  private checkNameUuid(snap: Snapshot, def: DomainDef): DomainView | undefined {
    const byUuid = snap.byUuid.get(def.uuid);
    const byName = snap.views.find((v) => v.name === def.name);
    if (byUuid && byUuid.name !== def.name) {
      throw new VirtError('OPERATION_FAILED', `domain '${byUuid.name}' is already defined with uuid ${def.uuid}`, { origin: 'xen' });
    }
    if (byName && byName.uuid !== def.uuid) {
      throw new VirtError('OPERATION_FAILED', `domain '${def.name}' already exists with uuid ${byName.uuid}`, { origin: 'xen' });
    }
    return byUuid;
  }

  // ------------------------------------------------------------ lookups

  async listDomains(): Promise<DomainSummary[]> {
    const snap = await this.snapshot();
    return Promise.all(snap.views.map((v) => this.summary(v)));
  }

  async lookupDomain(key: DomainKey): Promise<DomainSummary> {
    const snap = await this.snapshot();
    let v: DomainView | undefined;
    if ('uuid' in key) v = snap.byUuid.get(key.uuid);
    else if ('name' in key) v = snap.views.find((x) => x.name === key.name);
    else v = snap.views.find((x) => x.run && x.run.row.domid === key.id);
    if (!v) throw noDomain(key);
    return this.summary(v);
  }

  // ------------------------------------------------------------ definitions

  async defineDomain(xml: string, _opts?: DomainDefineOptions): Promise<DomainSummary> {
    const def = this.parse(xml);
    return this.locked(def.name, async () => {
      const snap = await this.snapshot();
      const existing = this.checkNameUuid(snap, def);
      await this.store.saveDef(def);
      const v: DomainView = { uuid: def.uuid, name: def.name, def, ...(existing?.run ? { run: existing.run } : {}) };
      const s = await this.summary(v);
      this.emit('defined', existing?.def ? 'updated' : 'added', { name: def.name, uuid: def.uuid, id: s.id });
      return s;
    });
  }

  async undefineDomain(uuid: string): Promise<void> {
    const v = await this.view(uuid);
    if (!v.def) throw invalid(v.name, 'is transient and cannot be undefined');
    await this.locked(v.name, async () => {
      await this.store.removeDef(v.name);
      this.emit('undefined', 'removed', { name: v.name, uuid, id: v.run?.row.domid ?? -1 });
    });
  }

  async setAutostart(uuid: string, autostart: boolean): Promise<void> {
    const v = await this.view(uuid);
    if (!v.def) throw invalid(v.name, 'is transient: cannot set autostart');
    await this.store.setAutostart(v.name, autostart);
  }

  // ------------------------------------------------------------ lifecycle

  /** Writes the guest's xl.cfg and runs `xl create`. */
  private async boot(def: DomainDef, paused: boolean, detail: 'booted' | 'restored'): Promise<DomainSummary> {
    const cfg = this.store.cfgPath(def.name);
    await writeFileAtomic(cfg, domainDefToXl(def, this.conv()));
    const args = ['create', ...(paused ? ['-p'] : []), cfg];
    try {
      await this.xl.run(args, `start domain '${def.name}'`);
    } catch (err) {
      await rm(cfg, { force: true });
      throw err;
    }
    const out = await this.xl.run(['domid', def.name], `find domain '${def.name}'`);
    const domid = Number(out.stdout.trim());
    const live = structuredClone(def);
    live.id = domid;
    await this.store.writeRuntime({ name: def.name, uuid: def.uuid, domid, liveXml: this.format(live, { inactive: false, secure: true }), startedAt: Date.now() });
    const who = { name: def.name, uuid: def.uuid, id: domid };
    this.emit('started', detail, who);
    if (paused) this.emit('suspended', 'paused', who);
    return (await this.lookupDomain({ uuid: def.uuid }));
  }

  async createDomain(xml: string, opts: DomainStartOptions = {}): Promise<DomainSummary> {
    const def = this.parse(xml);
    return this.change(() =>
      this.locked(def.name, async () => {
        const snap = await this.snapshot();
        const existing = this.checkNameUuid(snap, def);
        if (existing?.run) throw invalid(def.name, 'is already active');
        return this.boot(def, !!opts.paused, 'booted');
      }),
    );
  }

  async startDomain(uuid: string, opts: DomainStartOptions = {}): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      await this.locked(v.name, async () => {
        const now = await this.view(uuid);
        if (now.run) throw invalid(v.name, 'is already active');
        if (!now.def) throw noDomain(uuid);
        await this.boot(now.def, !!opts.paused, 'booted');
      });
    });
  }

  /** Forgets a guest that stopped; a transient one disappears with it. */
  private async stopped(v: DomainView, domid: number, detail: DomainEventDetail<'stopped'>): Promise<void> {
    await this.store.removeRuntime(v.name);
    this.emit('stopped', detail, { name: v.name, uuid: v.uuid, id: domid });
  }

  private async isGone(name: string, domid: number): Promise<boolean> {
    const rows = parseXlList((await this.xl.run(['list'], 'list domains')).stdout);
    return !rows.some((r) => r.domid === domid && r.name === name);
  }

  async shutdownDomain(uuid: string, opts: DomainShutdownOptions = {}): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      const run = this.requireRunning(v, 'shut down');
      const domid = run.row.domid;
      await this.xl.run(['shutdown', String(domid)], `shut down domain '${v.name}'`);
      const deadline = Date.now() + (opts.waitMs ?? 0);
      for (;;) {
        if (await this.isGone(v.name, domid)) {
          this.emit('shutdown', 'finished', { name: v.name, uuid, id: domid });
          await this.stopped(v, domid, 'shutdown');
          return;
        }
        if (Date.now() >= deadline) {
          if (opts.waitMs) throw new VirtError('OPERATION_TIMEOUT', `domain '${v.name}' did not shut down within ${opts.waitMs} ms`, { origin: 'xen' });
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  }

  async destroyDomain(uuid: string): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      const run = this.requireRunning(v, 'destroyed');
      await this.xl.run(['destroy', String(run.row.domid)], `destroy domain '${v.name}'`);
      await this.stopped(v, run.row.domid, 'destroyed');
    });
  }

  async rebootDomain(uuid: string): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      const run = this.requireRunning(v, 'rebooted');
      await this.xl.run(['reboot', String(run.row.domid)], `reboot domain '${v.name}'`);
      this.events.emit({ kind: 'domain-event', event: 'reboot', domain: { name: v.name, uuid, id: run.row.domid }, timestamp: Date.now() });
      // A rebooted guest comes back with a new domid.
      if (run.record) {
        const rows = parseXlList((await this.xl.run(['list'], 'list domains')).stdout);
        const row = rows.find((r) => r.name === v.name);
        if (row) await this.store.writeRuntime({ ...run.record, domid: row.domid });
        else await this.stopped(v, run.row.domid, 'shutdown');
      }
    });
  }

  async suspendDomain(uuid: string): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      const run = this.requireRunning(v, 'suspended');
      if (stateFromFlags(run.row.flags).state === 'paused') throw invalid(v.name, 'is already paused');
      await this.xl.run(['pause', String(run.row.domid)], `pause domain '${v.name}'`);
      this.emit('suspended', 'paused', { name: v.name, uuid, id: run.row.domid });
    });
  }

  async resumeDomain(uuid: string): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      const run = this.requireRunning(v, 'resumed');
      if (stateFromFlags(run.row.flags).state !== 'paused') throw invalid(v.name, 'is not paused');
      await this.xl.run(['unpause', String(run.row.domid)], `resume domain '${v.name}'`);
      this.emit('resumed', 'unpaused', { name: v.name, uuid, id: run.row.domid });
    });
  }

  async saveDomain(uuid: string, file: string, _opts: DomainSaveOptions = {}, job?: JobContext): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      const run = this.requireRunning(v, 'saved');
      const def = this.liveDef(v);
      const cfg = this.store.cfgPath(v.name);
      await writeFileAtomic(cfg, domainDefToXl(def, this.conv()));
      job?.onProgress?.({ processed: 0, total: 1, operation: 'save' });
      await this.xl.run(['save', String(run.row.domid), file, cfg], `save domain '${v.name}' to ${file}`);
      job?.onProgress?.({ processed: 1, total: 1, operation: 'save' });
      await this.stopped(v, run.row.domid, 'saved');
    });
  }

  async restoreDomain(file: string, opts: DomainSaveOptions = {}, job?: JobContext): Promise<DomainSummary> {
    return this.change(async () => {
      const before = new Set(parseXlList((await this.xl.run(['list'], 'list domains')).stdout).map((r) => r.domid));
      const args = ['restore'];
      if (opts.startAs === 'paused') args.push('-p');
      let given: DomainDef | undefined;
      if (opts.xml) {
        given = this.parse(opts.xml);
        const cfg = this.store.cfgPath(given.name);
        await writeFileAtomic(cfg, domainDefToXl(given, this.conv()));
        args.push(cfg);
      }
      args.push(file);
      job?.onProgress?.({ processed: 0, total: 1, operation: 'restore' });
      await this.xl.run(args, `restore a domain from ${file}`);
      job?.onProgress?.({ processed: 1, total: 1, operation: 'restore' });
      const snap = await this.snapshot();
      const v = snap.views.find((x) => x.run && !before.has(x.run.row.domid));
      if (!v?.run) throw new VirtError('OPERATION_FAILED', `xl restore of ${file} reported success but no new domain appeared`, { origin: 'xen' });
      const def = given ?? v.def ?? this.synthesize(v.name, v.uuid, v.run.row, v.run.details);
      const live = structuredClone(def);
      live.id = v.run.row.domid;
      await this.store.writeRuntime({ name: v.name, uuid: v.uuid, domid: v.run.row.domid, liveXml: this.format(live, { inactive: false, secure: true }), startedAt: Date.now() });
      const who = { name: v.name, uuid: v.uuid, id: v.run.row.domid };
      this.emit('started', 'restored', who);
      if (opts.startAs === 'paused') this.emit('suspended', 'restored', who);
      return this.summary(v);
    });
  }

  async migrate(uuid: string, destUri: string, opts: DomainMigrateOptions = {}): Promise<void> {
    const dest = parseUri(destUri);
    const destHost = dest.host;
    if (!destHost) throw new VirtError('INVALID_ARG', `migration destination '${destUri}' names no host (xl migrates over ssh to a host)`, { origin: 'xen' });
    if (opts.offline || opts.copyStorage || opts.postcopy || opts.tunnelled) {
      throw new VirtError('ARGUMENT_UNSUPPORTED', `domain migration over xl supports only live migration to a host (no offline, postcopy, tunnelled or storage copy)`, { origin: 'xen' });
    }
    await this.change(async () => {
      const v = await this.view(uuid);
      const run = this.requireRunning(v, 'migrated');
      const def = opts.xml ? this.parse(opts.xml) : this.liveDef(v);
      const cfg = this.store.cfgPath(v.name);
      await writeFileAtomic(cfg, domainDefToXl(def, this.conv()));
      const host = dest.user ? `${dest.user}@${destHost}` : destHost;
      opts.onProgress?.({ processed: 0, total: 1, operation: 'migration' });
      await this.xl.run(['migrate', '-C', cfg, String(run.row.domid), host], `migrate domain '${v.name}' to ${host}`);
      opts.onProgress?.({ processed: 1, total: 1, operation: 'migration' });
      await this.stopped(v, run.row.domid, 'migrated');
      if (opts.undefineSource && v.def) {
        await this.store.removeDef(v.name);
        this.emit('undefined', 'removed', { name: v.name, uuid, id: -1 });
      }
    });
  }

  // ------------------------------------------------------------ queries

  async getXml(uuid: string, opts: DomainXmlOptions = {}): Promise<string> {
    const v = await this.view(uuid);
    if (opts.inactive && v.def) return this.format(v.def, { inactive: true, secure: !!opts.secure });
    if (v.run) return this.format(this.liveDef(v), { inactive: false, secure: !!opts.secure });
    return this.format(v.def!, { inactive: true, secure: !!opts.secure });
  }

  async getState(uuid: string): Promise<{ state: DomainState; reason: string }> {
    const s = await this.summary(await this.view(uuid));
    return { state: s.state, reason: s.reason };
  }

  async getInfo(uuid: string): Promise<DomainInfo> {
    const v = await this.view(uuid);
    const s = await this.summary(v);
    const def = v.run ? this.liveDef(v) : v.def!;
    const row = v.run?.row;
    return {
      state: s.state,
      reason: s.reason,
      maxMemKiB: v.run?.details?.maxMemKiB || def.memory.total,
      memoryKiB: row ? row.memMiB * 1024 : def.memory.current,
      vcpus: row ? row.vcpus : def.vcpu.current,
      cpuTimeNs: row ? Math.round(row.cpuTimeS * 1e9) : 0,
      persistent: s.persistent,
      autostart: s.autostart,
      managedSave: false,
      osType: def.os.type,
    };
  }

  // ------------------------------------------------------------ changes to running guests

  /** Which of live/config a change applies to (libvirt's VIR_DOMAIN_AFFECT_*). */
  private targets(v: DomainView, opts: DeviceChangeOptions): { live: boolean; config: boolean } {
    let live = !!opts.live;
    let config = !!opts.config;
    if (!live && !config) {
      if (v.run) live = true;
      else config = true;
    }
    if (live && !v.run) throw invalid(v.name, 'is not running: cannot change the live guest');
    if (config && !v.def) throw invalid(v.name, 'is transient: it has no persistent configuration to change');
    return { live, config };
  }

  private async saveLive(v: DomainView, live: DomainDef): Promise<void> {
    const rec = v.run?.record;
    if (!rec) return;
    await this.store.writeRuntime({ ...rec, liveXml: this.format(live, { inactive: false, secure: true }) });
  }

  /** Parses one device's XML in the context of the domain it is for. */
  private parseDevice(v: DomainView, xml: string): { disk?: DiskDef; nic?: DomainInterfaceDef } {
    const base = v.def ?? (v.run ? this.liveDef(v) : undefined);
    const osType = base?.os.type === 'xen' ? 'linux' : (base?.os.type ?? 'linux');
    const doc = `<domain type='xen'><name>device</name><memory>1024</memory><os><type arch='${base?.os.arch ?? 'x86_64'}'>${osType}</type></os><devices>${xml}</devices></domain>`;
    const def = parseDomainXml(doc, { inactive: true, config: xenParserConfig(this.conv()), skipValidate: true, what: 'device XML' });
    if (def.devices.disks.length === 1 && def.devices.interfaces.length === 0) return { disk: def.devices.disks[0]! };
    if (def.devices.interfaces.length === 1 && def.devices.disks.length === 0) return { nic: def.devices.interfaces[0]! };
    throw new VirtError('CONFIG_UNSUPPORTED', `domain '${v.name}': only a single <disk> or <interface> can be attached or detached through xl`, { origin: 'xen' });
  }

  async attachDevice(uuid: string, xml: string, opts: DeviceChangeOptions = {}): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      const t = this.targets(v, opts);
      const dev = this.parseDevice(v, xml);
      const apply = (def: DomainDef) => {
        if (dev.disk) {
          if (def.devices.disks.some((d) => d.dst === dev.disk!.dst)) throw invalid(v.name, `already has a disk with target ${dev.disk.dst}`);
          def.devices.disks.push(structuredClone(dev.disk));
        } else {
          if (def.devices.interfaces.some((n) => n.mac === dev.nic!.mac)) throw invalid(v.name, `already has an interface with MAC ${dev.nic!.mac}`);
          def.devices.interfaces.push(structuredClone(dev.nic!));
        }
      };
      const persistent = t.config ? structuredClone(v.def!) : undefined;
      if (persistent) apply(persistent);
      if (t.live) {
        const live = this.liveDef(v);
        apply(live);
        const domid = String(v.run!.row.domid);
        if (dev.disk) await this.xl.run(['block-attach', domid, formatXlDiskSpec(live, dev.disk)], `attach disk ${dev.disk.dst} to domain '${v.name}'`);
        else await this.xl.run(['network-attach', domid, formatVif(dev.nic!, live.os.type === 'hvm', 'vif', this.conv().bridgeOfNetwork)], `attach interface ${dev.nic!.mac} to domain '${v.name}'`);
        await this.saveLive(v, live);
      }
      if (persistent) await this.store.saveDef(persistent);
    });
  }

  async detachDevice(uuid: string, xml: string, opts: DeviceChangeOptions = {}): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      const t = this.targets(v, opts);
      const dev = this.parseDevice(v, xml);
      const remove = (def: DomainDef) => {
        if (dev.disk) {
          const i = def.devices.disks.findIndex((d) => d.dst === dev.disk!.dst);
          if (i < 0) throw new VirtError('NO_DEVICE', `domain '${v.name}' has no disk with target ${dev.disk.dst}`, { origin: 'xen' });
          def.devices.disks.splice(i, 1);
        } else {
          const i = def.devices.interfaces.findIndex((n) => n.mac === dev.nic!.mac);
          if (i < 0) throw new VirtError('NO_DEVICE', `domain '${v.name}' has no interface with MAC ${dev.nic!.mac}`, { origin: 'xen' });
          def.devices.interfaces.splice(i, 1);
        }
      };
      const persistent = t.config ? structuredClone(v.def!) : undefined;
      if (persistent) remove(persistent);
      if (t.live) {
        const live = this.liveDef(v);
        remove(live);
        const domid = String(v.run!.row.domid);
        if (dev.disk) await this.xl.run(['block-detach', domid, dev.disk.dst], `detach disk ${dev.disk.dst} from domain '${v.name}'`);
        else await this.xl.run(['network-detach', domid, dev.nic!.mac], `detach interface ${dev.nic!.mac} from domain '${v.name}'`);
        await this.saveLive(v, live);
      }
      if (persistent) await this.store.saveDef(persistent);
    });
  }

  async setMemory(uuid: string, kib: number, opts: DeviceChangeOptions & { maximum?: boolean } = {}): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      const t = this.targets(v, opts);
      if (kib <= 0) throw new VirtError('INVALID_ARG', `domain '${v.name}': memory size must be positive`, { origin: 'xen' });
      const persistent = t.config ? structuredClone(v.def!) : undefined;
      if (persistent) {
        if (opts.maximum) {
          persistent.memory.total = kib;
          if (persistent.memory.current > kib) persistent.memory.current = kib;
        } else {
          if (kib > persistent.memory.total) throw new VirtError('INVALID_ARG', `domain '${v.name}': cannot set memory higher than max memory (${persistent.memory.total} KiB)`, { origin: 'xen' });
          persistent.memory.current = kib;
        }
      }
      if (t.live) {
        const live = this.liveDef(v);
        const domid = String(v.run!.row.domid);
        if (opts.maximum) {
          await this.xl.run(['mem-max', domid, `${kib}k`], `set the maximum memory of domain '${v.name}'`);
          live.memory.total = kib;
          if (live.memory.current > kib) live.memory.current = kib;
        } else {
          const max = v.run!.details?.maxMemKiB || live.memory.total;
          if (kib > max) throw new VirtError('INVALID_ARG', `domain '${v.name}': cannot set memory higher than max memory (${max} KiB)`, { origin: 'xen' });
          await this.xl.run(['mem-set', domid, `${kib}k`], `set the memory of domain '${v.name}'`);
          live.memory.current = kib;
        }
        await this.saveLive(v, live);
      }
      if (persistent) await this.store.saveDef(persistent);
    });
  }

  async setVcpus(uuid: string, count: number, opts: DeviceChangeOptions & { maximum?: boolean; guest?: boolean } = {}): Promise<void> {
    await this.change(async () => {
      const v = await this.view(uuid);
      if (opts.guest) throw new VirtError('ARGUMENT_UNSUPPORTED', `domain '${v.name}': xl cannot set vCPUs through a guest agent`, { origin: 'xen' });
      const t = this.targets(v, opts);
      if (count < 1) throw new VirtError('INVALID_ARG', `domain '${v.name}': a domain needs at least one vCPU`, { origin: 'xen' });
      if (opts.maximum && t.live) throw new VirtError('ARGUMENT_UNSUPPORTED', `domain '${v.name}': the maximum vCPU count of a running Xen guest cannot change`, { origin: 'xen' });
      const persistent = t.config ? structuredClone(v.def!) : undefined;
      if (persistent) {
        if (opts.maximum) {
          persistent.vcpu.max = count;
          if (persistent.vcpu.current > count) persistent.vcpu.current = count;
        } else {
          if (count > persistent.vcpu.max) throw new VirtError('INVALID_ARG', `domain '${v.name}': requested vcpus ${count} is greater than max allowable vcpus ${persistent.vcpu.max}`, { origin: 'xen' });
          persistent.vcpu.current = count;
        }
      }
      if (t.live) {
        const live = this.liveDef(v);
        if (count > live.vcpu.max) throw new VirtError('INVALID_ARG', `domain '${v.name}': requested vcpus ${count} is greater than max allowable vcpus ${live.vcpu.max}`, { origin: 'xen' });
        await this.xl.run(['vcpu-set', String(v.run!.row.domid), String(count)], `set the vCPUs of domain '${v.name}'`);
        live.vcpu.current = count;
        await this.saveLive(v, live);
      }
      if (persistent) await this.store.saveDef(persistent);
    });
  }

  // ------------------------------------------------------------ native formats

  async xmlToNative(format: string, xml: string): Promise<string> {
    if (format !== 'xen-xl') throw new VirtError('INVALID_ARG', `unsupported config type ${format} (the Xen driver knows xen-xl)`, { origin: 'xen' });
    return domainDefToXl(this.parse(xml), this.conv());
  }

  async xmlFromNative(format: string, config: string): Promise<string> {
    if (format !== 'xen-xl') throw new VirtError('INVALID_ARG', `unsupported config type ${format} (the Xen driver knows xen-xl)`, { origin: 'xen' });
    return xlToDomainXml(config, this.conv());
  }
}
