/**
 * The LXC domain driver: definitions on disk, containers run detached by
 * the LXC tools, runtime state written atomically to the URI's runtime
 * folder so that any later process re-attaches (no daemon needed). Every
 * change to a domain holds its cross-process lock; a container found dead
 * by whoever looks next is recorded (reason from its init's exit) and its
 * host-side devices and ports are released.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import {
  domainEvent,
  emptyCputune,
  FileLock,
  isSafeObjectName,
  processAlive,
  readProcStat,
  VirtError,
  type DeviceChangeOptions,
  type DomainDef,
  type DomainDriver,
  type DomainEventDetail,
  type DomainEventType,
  type DomainInfo,
  type DomainKey,
  type DomainShutdownOptions,
  type DomainStartOptions,
  type DomainState,
  type DomainStats,
  type DomainSummary,
  type DomainUndefineOptions,
  type DomainXmlOptions,
  type EventBus,
  type LocalNetworkDriver,
  type ShutdownMode,
  type StateDirs,
} from '@virtkit/core';
import { formatLxcDomain, lxcShares, parseLxcDomain, LXC_PARSER_CONFIG } from './domain-xml.js';
import { cgroupFoldersNamed, cgroupLayout, containerPids, readCgroupStats, removeCgroupFolders, setCpuBandwidth, setCpuShares, setMemoryLimit } from './host/cgroups.js';
import { openContainerConsole } from './host/console.js';
import { setContainerRunlevel } from './host/initctl.js';
import { LxcTools, lxcLogErrors, readInitExit, type InitExit } from './host/lxc-tools.js';
import { addContainerRoutes, prepareNics, releaseNics } from './host/nics.js';
import { waitForExit } from './host/proc.js';
import { LXC_NATIVE_FORMAT, lxcConfigToDomainXml } from './native/from-native.js';
import { buildLxcConfig, lxcDomainXmlToConfig } from './native/to-native.js';
import { LxcStore, lxcPathsFor, type LxcRuntimeState, type StopRequest } from './state/store.js';

const ORIGIN = { origin: 'lxc' };

export interface LxcDriverOptions {
  dirs: StateDirs;
  events: EventBus;
  /** The URI's local network driver, for `<interface type='network'>` ports. */
  networks: () => Promise<LocalNetworkDriver>;
  /** How long a graceful stop (reboot, graceful destroy) waits for init before giving up (ms). */
  stopTimeoutMs?: number;
  /** How often a driver with event listeners looks for containers that died or changed (ms). */
  watchIntervalMs?: number;
}

interface Entry {
  name: string;
  uuid: string;
  /** Persistent definition. */
  config?: DomainDef;
  state?: LxcRuntimeState;
  /** Live definition while running. */
  live?: DomainDef;
  autostart: boolean;
  /** Runtime state says running, but the container is gone. */
  dead?: boolean;
}

const isActive = (s: LxcRuntimeState | undefined): s is LxcRuntimeState & { phase: 'running' | 'paused' } => !!s && (s.phase === 'running' || s.phase === 'paused');

function err(code: ConstructorParameters<typeof VirtError>[0], msg: string, cause?: unknown): VirtError {
  return new VirtError(code, msg, { ...ORIGIN, ...(cause !== undefined ? { cause } : {}) });
}

function notRunning(name: string): VirtError {
  return err('OPERATION_INVALID', `Requested operation is not valid: domain '${name}' is not running`);
}

function noDomain(key: DomainKey | string): VirtError {
  const what = typeof key === 'string' ? `uuid '${key}'` : 'name' in key ? `name '${key.name}'` : 'uuid' in key ? `uuid '${key.uuid}'` : `id ${key.id}`;
  return err('NO_DOMAIN', `Domain not found: no domain with matching ${what}`);
}

/** The name the LXC tools know a container by: the domain name when it is a plain word, else its UUID. */
export function lxcNameFor(def: { name: string; uuid: string }): string {
  return /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/.test(def.name) ? def.name : `vk-${def.uuid}`;
}

/** The reason and event of a stop, from what was asked and how init ended. */
function stopOutcome(request: StopRequest | undefined, exit: InitExit): { reason: string; detail: DomainEventDetail<'stopped'> } {
  if (request === 'destroy') return { reason: 'destroyed', detail: 'destroyed' };
  if (request === 'shutdown' || request === 'reboot') return { reason: 'shutdown', detail: 'shutdown' };
  if (exit.kind === 'exited') return exit.status === 0 ? { reason: 'shutdown', detail: 'shutdown' } : { reason: 'failed', detail: 'failed' };
  if (exit.kind === 'signaled') return { reason: 'crashed', detail: 'crashed' };
  return { reason: 'unknown', detail: 'failed' };
}

export class LxcDomainDriver implements DomainDriver {
  readonly store: LxcStore;
  readonly tools: LxcTools;
  private readonly events: EventBus;
  private readonly networksOf: () => Promise<LocalNetworkDriver>;
  private readonly stopTimeoutMs: number;
  /** Identifies this driver instance in state files (replayed events skip their own). */
  private readonly writer = `${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly seen = new Map<string, number>();
  private watchTimer?: NodeJS.Timeout;
  private watching = false;
  private closed = false;
  /** Domains this instance started with autodestroy. */
  private readonly autodestroy = new Set<string>();
  /** Autostart failures of this process (autostart never fails an API call). */
  readonly autostartErrors: Array<{ domain: string; error: VirtError }> = [];
  private readonly relativeCgroups: boolean;
  private readonly cgroupTag: string;

  constructor(opts: LxcDriverOptions) {
    this.store = new LxcStore(lxcPathsFor(opts.dirs));
    this.tools = new LxcTools(this.store.paths.lxcpath);
    this.events = opts.events;
    this.networksOf = opts.networks;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
    // Containers of embedded roots (tests, apps) stay under their starter's cgroup; host ones go to the top as LXC does.
    this.relativeCgroups = opts.dirs.scope === 'embed';
    this.cgroupTag = createHash('sha256').update(this.store.paths.lxcpath).digest('hex').slice(0, 8);
    const interval = opts.watchIntervalMs ?? 1000;
    this.watchTimer = setInterval(() => void this.watchTick(), interval);
    this.watchTimer.unref?.();
  }

  // ------------------------------------------------------------ plumbing

  /** Creates the folders and autostarts what is marked so, once per boot of the runtime folder. */
  async init(opts: { autostart?: boolean } = {}): Promise<void> {
    // 0711: containers with a user namespace must be able to pass through to their folder.
    await mkdir(this.store.paths.runtimeDir, { recursive: true, mode: 0o711 });
    if (opts.autostart === false) return;
    const marker = join(this.store.paths.runtimeDir, 'autostarted');
    try {
      await writeFile(marker, `${process.pid}\n`, { flag: 'wx' });
    } catch {
      return; // someone did it already
    }
    for (const name of await this.store.definitionNames()) {
      if (!(await this.store.isAutostart(name))) continue;
      try {
        const e = await this.readEntry(name);
        if (!e?.config || isActive(e.state)) continue;
        await this.startDomain(e.uuid);
      } catch (x) {
        this.autostartErrors.push({ domain: name, error: x instanceof VirtError ? x : err('INTERNAL_ERROR', String(x), x) });
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    for (const uuid of [...this.autodestroy]) await this.destroyDomain(uuid).catch(() => {});
  }

  private withDomainLock<T>(name: string, what: string, fn: () => Promise<T>): Promise<T> {
    return FileLock.with(this.store.lockPath(name), `domain '${name}' (${what})`, fn, 120_000);
  }

  private withRegistryLock<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return FileLock.with(join(this.store.paths.runtimeDir, 'registry.lock'), `the LXC domain list (${what})`, fn, 120_000);
  }

  private emit<T extends DomainEventType>(name: string, uuid: string, id: number, type: T, detail: DomainEventDetail<T>): void {
    this.events.emit(domainEvent(type, detail, { name, uuid, id }));
  }

  /** Writes a state change, stamping it for other processes' event replay. */
  private async saveState(s: LxcRuntimeState, event?: { type: DomainEventType; detail: string }): Promise<void> {
    s.seq = (s.seq ?? 0) + 1;
    if (event) s.lastEvent = { type: event.type, detail: event.detail, pid: process.pid, at: Date.now() };
    s.writer = this.writer;
    await this.store.writeState(s);
    this.seen.set(s.name, s.seq);
  }

  private parseDefinition(xml: string, name: string): DomainDef {
    try {
      return parseLxcDomain(xml, { what: `definition of domain '${name}'` });
    } catch (e) {
      throw err('INTERNAL_ERROR', `domain definition ${this.store.definitionPath(name)} cannot be read: ${(e as Error).message}`, e);
    }
  }

  private async readEntry(name: string): Promise<Entry | undefined> {
    if (!isSafeObjectName(name)) return undefined;
    const [xml, state] = await Promise.all([this.store.readDefinition(name), this.store.readState(name)]);
    if (xml === undefined && !state) return undefined;
    if (!xml && state && !isActive(state) && !state.persistent) return undefined;
    const config = xml !== undefined ? this.parseDefinition(xml, name) : undefined;
    let live: DomainDef | undefined;
    if (isActive(state) && state.liveXml) {
      try {
        live = parseLxcDomain(state.liveXml, { live: true, what: `live definition of domain '${name}'` });
      } catch {
        live = undefined;
      }
    }
    const ref = live ?? config;
    if (!ref && !state) return undefined;
    const e: Entry = { name: ref?.name ?? state!.name, uuid: ref?.uuid ?? state!.uuid, autostart: config ? await this.store.isAutostart(name) : false };
    if (config) e.config = config;
    if (state && (isActive(state) || config)) e.state = state;
    if (live) e.live = live;
    if (isActive(state)) {
      const alive = processAlive(state.monitorPid, state.monitorStartTicks);
      const orphaned = state.autodestroyPid !== undefined && !(processAlive(state.autodestroyPid));
      if (!alive || orphaned) e.dead = true;
    }
    if (!config && !isActive(state)) return undefined;
    return e;
  }

  /** An entry, with a container that died since the last look recorded first. */
  private async entry(name: string): Promise<Entry | undefined> {
    const e = await this.readEntry(name);
    if (e?.dead) {
      await this.reap(name);
      return this.readEntry(name);
    }
    return e;
  }

  private async allEntries(): Promise<Entry[]> {
    const names = new Set([...(await this.store.definitionNames()), ...(await this.store.stateNames())]);
    const out: Entry[] = [];
    for (const n of [...names].sort()) {
      // A definition that cannot be read is skipped, as libvirt skips it at load time.
      const e = await this.entry(n).catch(() => undefined);
      if (e) out.push(e);
    }
    return out;
  }

  private async entryByUuid(uuid: string): Promise<Entry> {
    for (const e of await this.allEntries()) if (e.uuid === uuid) return e;
    throw noDomain(uuid);
  }

  private summary(e: Entry): DomainSummary {
    const s = e.state;
    const active = isActive(s);
    return {
      id: active ? s.monitorPid ?? -1 : -1,
      name: e.name,
      uuid: e.uuid,
      state: active ? (s.phase as DomainState) : 'shutoff',
      reason: s ? s.reason : 'unknown',
      persistent: !!e.config,
      autostart: e.autostart,
      managedSave: false,
    };
  }

  // ------------------------------------------------------------ death and cleanup

  /** Records a container that is gone (or whose autodestroy owner is gone), under its lock. */
  private async reap(name: string): Promise<void> {
    await this.withDomainLock(name, 'record stop', async () => {
      const state = await this.store.readState(name);
      if (!isActive(state)) return;
      const alive = processAlive(state.monitorPid, state.monitorStartTicks);
      const orphaned = state.autodestroyPid !== undefined && !(processAlive(state.autodestroyPid));
      if (alive && !orphaned) return;
      if (alive && orphaned) {
        state.stopRequest = { kind: 'destroy', at: Date.now() };
        await this.killContainer(state);
      }
      await this.finishStop(state);
    });
  }

  /**
   * SIGKILLs the container's init (what `lxc-stop -k` does, without the
   * extra process), thaws a frozen one so the signal lands, and waits for
   * the monitor to exit; falls back to lxc-stop when that is not enough.
   */
  private async killContainer(state: LxcRuntimeState): Promise<void> {
    let signalled = false;
    if (state.initPid && (processAlive(state.initPid))) {
      try {
        process.kill(state.initPid, 'SIGKILL');
        signalled = true;
      } catch {
        /* gone already, or not ours: lxc-stop below */
      }
    }
    if (state.phase === 'paused') await this.tools.unfreeze(state.lxcName).catch(() => {});
    if (signalled && state.monitorPid && (await waitForExit(state.monitorPid, state.monitorStartTicks, 10_000))) return;
    const r = await this.tools.kill(state.lxcName);
    if (state.monitorPid && !(await waitForExit(state.monitorPid, state.monitorStartTicks, 30_000))) {
      throw err('OPERATION_FAILED', `domain '${state.name}': the container did not stop: ${r.stderr.trim() || 'its monitor is still running'}`);
    }
  }

  /** After the container is gone: release devices and ports, record shutoff (or forget a transient domain), emit the event. */
  private async finishStop(state: LxcRuntimeState, opts: { keepForRestart?: boolean } = {}): Promise<void> {
    const exit = state.logFile ? await readInitExit(state.logFile) : ({ kind: 'unknown' } as InitExit);
    const { reason, detail } = stopOutcome(state.stopRequest?.kind, exit);
    await this.releaseResources(state);
    const id = state.monitorPid ?? -1;
    this.autodestroy.delete(state.uuid);
    if (opts.keepForRestart) return;
    if (state.persistent || (await this.store.readDefinition(state.name)) !== undefined) {
      const next: LxcRuntimeState = {
        version: 1, name: state.name, uuid: state.uuid, lxcName: state.lxcName, phase: 'shutoff', reason, persistent: true, nics: [], seq: state.seq,
      };
      await this.saveState(next, { type: 'stopped', detail });
    } else {
      await this.store.removeState(state.name);
      this.seen.delete(state.name);
    }
    this.emit(state.name, state.uuid, id, 'stopped', detail);
  }

  /** Undoes what a start made on the host: veths, ports, cgroup leftovers, the LXC folder (its log is kept). */
  private async releaseResources(state: LxcRuntimeState): Promise<void> {
    await releaseNics(state.nics, this.networksOf).catch(() => {});
    state.nics = [];
    const dirs = state.cgroup?.folders ?? [];
    if (dirs.length) {
      // The monitor moves to the pivot as it exits: give it a moment to be gone.
      for (let i = 0; i < 40; i++) {
        await removeCgroupFolders(dirs);
        if (!dirs.some((d) => existsSync(d))) break;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    const dir = this.store.containerDir(state.lxcName);
    if (state.logFile) await rename(state.logFile, join(this.store.paths.runtimeDir, `${state.name}.log`)).catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }

  // ------------------------------------------------------------ start

  /** Resolves `<lxc:namespace>` shares naming another domain to that domain's namespace files. */
  private async sharePaths(def: DomainDef): Promise<Partial<Record<'sharenet' | 'shareipc' | 'shareuts', string>>> {
    const out: Partial<Record<'sharenet' | 'shareipc' | 'shareuts', string>> = {};
    const ns = { sharenet: 'net', shareipc: 'ipc', shareuts: 'uts' } as const;
    for (const s of lxcShares(def)) {
      if (s.type === 'name') {
        const other = await this.entry(s.value);
        if (!other || !isActive(other.state) || !other.state.initPid) {
          throw err('OPERATION_INVALID', `domain '${def.name}': cannot share the ${ns[s.kind]} namespace of domain '${s.value}': it is not running`);
        }
        out[s.kind] = `/proc/${other.state.initPid}/ns/${ns[s.kind]}`;
      } else if (s.type === 'netns') {
        if (!isSafeObjectName(s.value)) throw err('INVALID_ARG', `domain '${def.name}': invalid network namespace name '${s.value}'`);
        out[s.kind] = `/run/netns/${s.value}`;
      } else {
        if (!/^[0-9]+$/.test(s.value)) throw err('INVALID_ARG', `domain '${def.name}': invalid process id '${s.value}' for ${s.kind}`);
        out[s.kind] = `/proc/${s.value}/ns/${ns[s.kind]}`;
      }
    }
    return out;
  }

  /**
   * Starts a container for `def` (caller holds the domain lock and checked
   * it is not running). Records and returns the new runtime state; on any
   * failure everything made so far is removed again.
   */
  private async launch(def: DomainDef, opts: { persistent: boolean; paused?: boolean; autodestroy?: boolean; seq?: number }): Promise<LxcRuntimeState> {
    const what = `domain '${def.name}'`;
    const lxcName = lxcNameFor(def);
    const dir = this.store.containerDir(lxcName);
    const leaf = `vkl.${this.cgroupTag}.${lxcName}`;
    const names = { container: leaf, monitor: `${leaf}.monitor`, pivot: `${leaf}.pivot`, relative: this.relativeCgroups };
    // LXC makes them relative to lxc-start's cgroup, which is ours: record where, for whoever cleans up.
    const containerFolders = await cgroupFoldersNamed(names.container, names.relative);
    const monitorFolders = await cgroupFoldersNamed(names.monitor, names.relative);
    const pivotFolders = await cgroupFoldersNamed(names.pivot, names.relative);
    // A container of that name still running (outside our records) still has its cgroup.
    if (containerFolders.some((f) => existsSync(join(f, 'cgroup.procs')) && readFileSync(join(f, 'cgroup.procs'), 'utf8').trim() !== '')) {
      throw err('OPERATION_FAILED', `${what}: an LXC container '${lxcName}' is already running in ${this.store.paths.lxcpath} outside virtkit's records; stop it with lxc-stop first`);
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o711 });
    const logFile = join(dir, 'lxc.log');
    const consoleLogFile = join(dir, 'console.log');
    const cgroup = { ...names, folders: [...containerFolders, ...monitorFolders, ...pivotFolders] };
    const state: LxcRuntimeState = {
      version: 1, name: def.name, uuid: def.uuid, lxcName, phase: 'running', reason: 'booted', persistent: opts.persistent, nics: [], cgroup, logFile,
      consoleLogFile, seq: opts.seq ?? 0,
    };
    let started = false;
    try {
      const sharePaths = await this.sharePaths(def);
      const plan = await prepareNics(def, { owner: { name: def.name, uuid: def.uuid }, networks: this.networksOf, what });
      state.nics = plan.records;
      const layout = await cgroupLayout();
      const config = buildLxcConfig(def, { layout, nicLines: plan.lines, sharePaths, consoleLogFile, cgroupDirs: names, checkSources: true });
      await writeFile(join(dir, 'config'), config.text, { mode: 0o600 });
      await writeFile(logFile, '', { mode: 0o600 });
      try {
        await this.tools.start(lxcName, config.argv, logFile);
      } catch (e) {
        const log = await lxcLogErrors(logFile);
        throw err('OPERATION_FAILED', `${what}: the container failed to start: ${log || (e as Error).message}`, e);
      }
      started = true;
      const found = await containerPids(monitorFolders, containerFolders).catch(() => undefined);
      let initPid = found?.init;
      if (!initPid) {
        const info = await this.tools.info(lxcName);
        if (info.state === 'RUNNING') initPid = info.pid;
      }
      if (!initPid) {
        const log = await lxcLogErrors(logFile);
        throw err('OPERATION_FAILED', `${what}: the container stopped right after it started${log ? `: ${log}` : ''}`);
      }
      const init = readProcStat(initPid);
      const monitor = init ? readProcStat(init.ppid) : undefined;
      if (!init || !monitor) throw err('OPERATION_FAILED', `${what}: the container's init (pid ${initPid}) ended right after it started`);
      state.initPid = init.pid;
      state.monitorPid = monitor.pid;
      state.monitorStartTicks = monitor.startTicks;
      state.startedAt = Date.now();
      if (opts.autodestroy) state.autodestroyPid = process.pid;
      await addContainerRoutes(init.pid, plan.routes, what);
      for (const r of state.nics) {
        if (r.port) await (await this.networksOf()).updatePort(r.port.uuid, { ifname: r.host, pid: monitor.pid }).catch(() => {});
      }
      // The definition object is this start's own copy: it becomes the live definition.
      const live = def;
      live.id = monitor.pid;
      for (const [index, host] of plan.hostNames) {
        const nic = live.devices.interfaces[index];
        if (nic) nic.ifname = host;
      }
      state.liveXml = formatLxcDomain(live, { id: monitor.pid, secure: true });
      if (opts.paused) {
        await this.tools.freeze(lxcName);
        state.phase = 'paused';
        state.reason = 'user';
      }
      await this.saveState(state, { type: 'started', detail: 'booted' });
      if (opts.autodestroy) this.autodestroy.add(def.uuid);
      return state;
    } catch (e) {
      if (started) {
        await this.tools.kill(lxcName).catch(() => {});
        if (state.monitorPid) await waitForExit(state.monitorPid, state.monitorStartTicks, 10_000);
      }
      await this.releaseResources(state);
      throw e;
    }
  }

  private emitStarted(state: LxcRuntimeState): void {
    this.emit(state.name, state.uuid, state.monitorPid ?? -1, 'started', 'booted');
    if (state.phase === 'paused') this.emit(state.name, state.uuid, state.monitorPid ?? -1, 'suspended', 'paused');
  }

  // ------------------------------------------------------------ DomainDriver: queries

  async listDomains(): Promise<DomainSummary[]> {
    return (await this.allEntries()).map((e) => this.summary(e));
  }

  async lookupDomain(key: DomainKey): Promise<DomainSummary> {
    if ('name' in key) {
      const e = await this.entry(key.name);
      if (!e) throw noDomain(key);
      return this.summary(e);
    }
    for (const e of await this.allEntries()) {
      if ('uuid' in key ? e.uuid === key.uuid : isActive(e.state) && e.state.monitorPid === key.id) return this.summary(e);
    }
    throw noDomain(key);
  }

  async getXml(uuid: string, opts: DomainXmlOptions = {}): Promise<string> {
    const e = await this.entryByUuid(uuid);
    const fmt = { secure: !!opts.secure, migratable: !!opts.migratable };
    if (isActive(e.state) && e.live && !(opts.inactive && e.config)) return formatLxcDomain(e.live, { ...fmt, id: e.state.monitorPid ?? -1, inactive: !!opts.inactive });
    return formatLxcDomain((e.config ?? e.live)!, { ...fmt, inactive: true });
  }

  async getState(uuid: string): Promise<{ state: DomainState; reason: string }> {
    const s = this.summary(await this.entryByUuid(uuid));
    return { state: s.state, reason: s.reason };
  }

  async getInfo(uuid: string): Promise<DomainInfo> {
    const e = await this.entryByUuid(uuid);
    const def = (e.live ?? e.config)!;
    const sum = this.summary(e);
    const info: DomainInfo = {
      state: sum.state,
      reason: sum.reason,
      maxMemKiB: def.memory.total,
      memoryKiB: def.memory.current,
      vcpus: def.vcpu.current,
      cpuTimeNs: 0,
      persistent: !!e.config,
      autostart: e.autostart,
      managedSave: false,
      osType: def.os.type,
      securityModel: 'none',
    };
    if (isActive(e.state) && e.state.initPid) {
      const st = await readCgroupStats(e.state.initPid).catch(() => ({}) as Awaited<ReturnType<typeof readCgroupStats>>);
      if (st.cpuTimeNs !== undefined) info.cpuTimeNs = st.cpuTimeNs;
      if (st.memoryBytes !== undefined) info.memoryKiB = Math.ceil(st.memoryBytes / 1024);
    }
    return info;
  }

  async getStats(uuid: string, groups?: string[]): Promise<DomainStats> {
    const e = await this.entryByUuid(uuid);
    const def = (e.live ?? e.config)!;
    const sum = this.summary(e);
    const want = (g: string) => !groups?.length || groups.includes(g);
    const states: DomainState[] = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'];
    const out: DomainStats = {};
    if (want('state')) {
      out['state.state'] = states.indexOf(sum.state);
      out['state.reason'] = sum.reason;
    }
    const active = isActive(e.state) && e.state.initPid;
    const st = active ? await readCgroupStats(e.state!.initPid!).catch(() => ({}) as Awaited<ReturnType<typeof readCgroupStats>>) : undefined;
    if (want('cpu') && st) {
      if (st.cpuTimeNs !== undefined) out['cpu.time'] = st.cpuTimeNs;
      if (st.cpuUserNs !== undefined) out['cpu.user'] = st.cpuUserNs;
      if (st.cpuSystemNs !== undefined) out['cpu.system'] = st.cpuSystemNs;
      if (st.cpuShares !== undefined) out['cpu.shares'] = st.cpuShares;
    }
    if (want('balloon')) {
      out['balloon.current'] = def.memory.current;
      out['balloon.maximum'] = def.memory.total;
      if (st?.memoryBytes !== undefined) out['balloon.rss'] = Math.ceil(st.memoryBytes / 1024);
      if (st?.memoryLimitBytes !== undefined && Number.isFinite(st.memoryLimitBytes)) out['balloon.limit'] = Math.floor(st.memoryLimitBytes / 1024);
      if (st?.memoryLimitHits !== undefined) out['balloon.limit-hits'] = st.memoryLimitHits;
    }
    if (want('vcpu')) {
      out['vcpu.current'] = def.vcpu.current;
      out['vcpu.maximum'] = def.vcpu.max;
    }
    if (want('net') && active) {
      const nics = e.state!.nics;
      out['net.count'] = nics.length;
      const { readFile } = await import('node:fs/promises');
      for (const [i, r] of nics.entries()) {
        out[`net.${i}.name`] = r.host;
        if (r.netns) continue; // the host end lives in another namespace: no sysfs view from here
        const stat = async (f: string) => Number((await readFile(`/sys/class/net/${r.host}/statistics/${f}`, 'utf8').catch(() => 'NaN')).trim());
        // The host end's receive is the container's transmit.
        const pairs: Array<[string, string]> = [['rx.bytes', 'tx_bytes'], ['rx.pkts', 'tx_packets'], ['tx.bytes', 'rx_bytes'], ['tx.pkts', 'rx_packets']];
        for (const [k, f] of pairs) {
          const v = await stat(f);
          if (Number.isFinite(v)) out[`net.${i}.${k}`] = v;
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------ DomainDriver: definitions

  async defineDomain(xml: string): Promise<DomainSummary> {
    const def = parseLxcDomain(xml);
    if (!isSafeObjectName(def.name)) throw err('XML_ERROR', `domain name '${def.name}' cannot contain '/'`);
    return this.withRegistryLock(`define '${def.name}'`, async () => {
      const entries = await this.allEntries();
      const byUuid = entries.find((e) => e.uuid === def.uuid);
      const byName = entries.find((e) => e.name === def.name);
      if (byUuid && byUuid.name !== def.name) throw err('OPERATION_FAILED', `domain '${byUuid.name}' is already defined with uuid ${def.uuid}`);
      if (byName && byName.uuid !== def.uuid) throw err('OPERATION_FAILED', `domain '${def.name}' already exists with uuid ${byName.uuid}`);
      const existed = !!byName?.config;
      await this.store.writeDefinition(def.name, formatLxcDomain(def, { inactive: true, secure: true }));
      if (byName && isActive(byName.state) && !byName.state.persistent) {
        await this.withDomainLock(def.name, 'define', async () => {
          const s = await this.store.readState(def.name);
          if (s && isActive(s)) {
            s.persistent = true;
            await this.saveState(s);
          }
        });
      }
      await this.recordEvent(def.name, 'defined', existed ? 'updated' : 'added');
      this.emit(def.name, def.uuid, byName && isActive(byName.state) ? byName.state.monitorPid ?? -1 : -1, 'defined', existed ? 'updated' : 'added');
      const e = await this.readEntry(def.name);
      return this.summary(e!);
    });
  }

  /** Stamps a definition change into the runtime state, for other processes' event replay. */
  private async recordEvent(name: string, type: DomainEventType, detail: string): Promise<void> {
    await this.withDomainLock(name, 'record event', async () => {
      const s = await this.store.readState(name);
      if (!s) return;
      await this.saveState(s, { type, detail });
    }).catch(() => {});
  }

  async undefineDomain(uuid: string, _opts: DomainUndefineOptions = {}): Promise<void> {
    const e0 = await this.entryByUuid(uuid);
    await this.withRegistryLock(`undefine '${e0.name}'`, async () => {
      const e = await this.entry(e0.name);
      if (!e || e.uuid !== uuid) throw noDomain(uuid);
      if (!e.config) throw err('OPERATION_INVALID', `Requested operation is not valid: cannot undefine transient domain '${e.name}'`);
      await this.withDomainLock(e.name, 'undefine', async () => {
        await this.store.removeDefinition(e.name);
        const s = await this.store.readState(e.name);
        if (isActive(s)) {
          s.persistent = false;
          await this.saveState(s, { type: 'undefined', detail: 'removed' });
        } else {
          await this.store.removeState(e.name);
          this.seen.delete(e.name);
        }
      });
      this.emit(e.name, e.uuid, isActive(e.state) ? e.state.monitorPid ?? -1 : -1, 'undefined', 'removed');
    });
  }

  async setAutostart(uuid: string, autostart: boolean): Promise<void> {
    const e = await this.entryByUuid(uuid);
    if (!e.config) throw err('OPERATION_INVALID', `Requested operation is not valid: cannot set autostart for transient domain '${e.name}'`);
    await this.store.setAutostart(e.name, autostart);
  }

  // ------------------------------------------------------------ DomainDriver: lifecycle

  async createDomain(xml: string, opts: DomainStartOptions = {}): Promise<DomainSummary> {
    const def = parseLxcDomain(xml);
    if (!isSafeObjectName(def.name)) throw err('XML_ERROR', `domain name '${def.name}' cannot contain '/'`);
    const state = await this.withRegistryLock(`create '${def.name}'`, async () => {
      const entries = await this.allEntries();
      const byUuid = entries.find((e) => e.uuid === def.uuid);
      const byName = entries.find((e) => e.name === def.name);
      if (byUuid && byUuid.name !== def.name) throw err('OPERATION_FAILED', `domain '${byUuid.name}' is already defined with uuid ${def.uuid}`);
      if (byName && byName.uuid !== def.uuid) throw err('OPERATION_FAILED', `domain '${def.name}' already exists with uuid ${byName.uuid}`);
      return this.withDomainLock(def.name, 'create', async () => {
        const cur = await this.store.readState(def.name);
        if (isActive(cur) && (processAlive(cur.monitorPid, cur.monitorStartTicks))) {
          throw err('OPERATION_INVALID', `Requested operation is not valid: domain '${def.name}' is already active`);
        }
        if (isActive(cur)) await this.finishStop(cur);
        return this.launch(def, { persistent: !!byName?.config, paused: !!opts.paused, autodestroy: !!opts.autodestroy, seq: cur?.seq ?? 0 });
      });
    });
    this.emitStarted(state);
    return this.summary({ name: state.name, uuid: state.uuid, state, autostart: false, ...(state.persistent ? { config: def } : {}) });
  }

  async startDomain(uuid: string, opts: DomainStartOptions = {}): Promise<void> {
    const e0 = await this.entryByUuid(uuid);
    const state = await this.withDomainLock(e0.name, 'start', async () => {
      const e = await this.readEntry(e0.name);
      if (!e || e.uuid !== uuid) throw noDomain(uuid);
      if (isActive(e.state)) {
        if (!e.dead) throw err('OPERATION_INVALID', `Requested operation is not valid: domain '${e.name}' is already running`);
        await this.finishStop(e.state);
      }
      if (!e.config) throw noDomain(uuid);
      return this.launch(e.config, { persistent: true, paused: !!opts.paused, autodestroy: !!opts.autodestroy, seq: e.state?.seq ?? 0 });
    });
    this.emitStarted(state);
  }

  /** The running state of a domain under its lock (a dead container is recorded first and reported as not running). */
  private async activeLocked(e0: Entry): Promise<LxcRuntimeState> {
    const s = await this.store.readState(e0.name);
    if (!isActive(s) || s.uuid !== e0.uuid) throw notRunning(e0.name);
    const alive = processAlive(s.monitorPid, s.monitorStartTicks);
    if (!alive) {
      await this.finishStop(s);
      throw notRunning(e0.name);
    }
    return s;
  }

  async shutdownDomain(uuid: string, opts: DomainShutdownOptions = {}): Promise<void> {
    const modes = opts.modes?.length ? opts.modes : (['initctl', 'signal'] as ShutdownMode[]);
    const bad = modes.filter((m) => m !== 'initctl' && m !== 'signal');
    if (bad.length) throw err('ARGUMENT_UNSUPPORTED', `shutdown mode '${bad.join(',')}' is not supported for containers (use initctl or signal)`);
    const e0 = await this.entryByUuid(uuid);
    const state = await this.withDomainLock(e0.name, 'shutdown', async () => {
      const s = await this.activeLocked(e0);
      s.stopRequest = { kind: 'shutdown', at: Date.now() };
      await this.saveState(s);
      await this.askInitToStop(s, modes, '0');
      return s;
    });
    if (opts.waitMs && state.monitorPid) {
      if (await waitForExit(state.monitorPid, state.monitorStartTicks, opts.waitMs)) await this.reap(state.name);
    }
  }

  /** initctl (runlevel change) when the container's init has the FIFO and the mode allows, else SIGTERM. */
  private async askInitToStop(s: LxcRuntimeState, modes: readonly ShutdownMode[], runlevel: '0' | '6'): Promise<void> {
    if (!s.initPid) throw err('OPERATION_FAILED', `domain '${s.name}': its init process is not known`);
    if (modes.includes('initctl') && (await setContainerRunlevel(s.initPid, runlevel))) return;
    if (!modes.includes('signal')) throw err('OPERATION_FAILED', `domain '${s.name}': its init has no initctl FIFO; try --mode signal`);
    try {
      process.kill(s.initPid, 'SIGTERM');
    } catch (e) {
      throw err('SYSTEM_ERROR', `domain '${s.name}': cannot signal its init (pid ${s.initPid}): ${(e as Error).message}`, e);
    }
  }

  async destroyDomain(uuid: string, opts: { graceful?: boolean } = {}): Promise<void> {
    const e0 = await this.entryByUuid(uuid);
    await this.withDomainLock(e0.name, 'destroy', async () => {
      const s = await this.activeLocked(e0);
      s.stopRequest = { kind: 'destroy', at: Date.now() };
      await this.saveState(s);
      if (opts.graceful) {
        if (s.phase === 'paused') await this.tools.unfreeze(s.lxcName).catch(() => {});
        try {
          process.kill(s.initPid!, 'SIGTERM');
        } catch {
          /* already gone */
        }
        if (!(await waitForExit(s.monitorPid!, s.monitorStartTicks, this.stopTimeoutMs))) {
          throw err('OPERATION_TIMEOUT', `domain '${s.name}': the container did not stop within ${this.stopTimeoutMs} ms of SIGTERM (graceful destroy)`);
        }
      } else await this.killContainer(s);
      await this.finishStop(s);
    });
  }

  async rebootDomain(uuid: string, opts: { modes?: ShutdownMode[] } = {}): Promise<void> {
    const modes = opts.modes?.length ? opts.modes : (['initctl', 'signal'] as ShutdownMode[]);
    const bad = modes.filter((m) => m !== 'initctl' && m !== 'signal');
    if (bad.length) throw err('ARGUMENT_UNSUPPORTED', `reboot mode '${bad.join(',')}' is not supported for containers (use initctl or signal)`);
    const e0 = await this.entryByUuid(uuid);
    const next = await this.withDomainLock(e0.name, 'reboot', async () => {
      const s = await this.activeLocked(e0);
      const live = s.liveXml ? parseLxcDomain(s.liveXml, { live: true }) : e0.config!;
      s.stopRequest = { kind: 'reboot', at: Date.now() };
      await this.saveState(s);
      if (s.phase === 'paused') await this.tools.unfreeze(s.lxcName).catch(() => {});
      // Ask init to go (it may not handle the request); after the grace time the container is killed.
      await this.askInitToStop(s, modes, '6').catch(() => {});
      if (!(await waitForExit(s.monitorPid!, s.monitorStartTicks, this.stopTimeoutMs))) await this.killContainer(s);
      await this.finishStop(s, { keepForRestart: true });
      for (const nic of live.devices.interfaces) if (nic.ifname && /^vk[0-9a-f]{8}n[0-9]+$/.test(nic.ifname)) delete nic.ifname;
      live.id = -1;
      const wasAutodestroy = s.autodestroyPid !== undefined;
      try {
        return await this.launch(live, { persistent: s.persistent, autodestroy: wasAutodestroy, seq: s.seq });
      } catch (x) {
        // The reboot stopped it and it could not come back: record it off.
        s.stopRequest = { kind: 'destroy', at: Date.now() };
        s.nics = [];
        await this.finishStop(s).catch(() => {});
        throw x;
      }
    });
    this.events.emit({ kind: 'domain-event', event: 'reboot', domain: { name: next.name, uuid: next.uuid, id: next.monitorPid ?? -1 }, timestamp: Date.now() });
  }

  async suspendDomain(uuid: string): Promise<void> {
    const e0 = await this.entryByUuid(uuid);
    const s = await this.withDomainLock(e0.name, 'suspend', async () => {
      const s = await this.activeLocked(e0);
      if (s.phase === 'paused') return undefined;
      await this.tools.freeze(s.lxcName);
      s.phase = 'paused';
      s.reason = 'user';
      await this.saveState(s, { type: 'suspended', detail: 'paused' });
      return s;
    });
    if (s) this.emit(s.name, s.uuid, s.monitorPid ?? -1, 'suspended', 'paused');
  }

  async resumeDomain(uuid: string): Promise<void> {
    const e0 = await this.entryByUuid(uuid);
    const s = await this.withDomainLock(e0.name, 'resume', async () => {
      const s = await this.activeLocked(e0);
      if (s.phase !== 'paused') throw err('OPERATION_INVALID', `Requested operation is not valid: domain '${s.name}' is already running`);
      await this.tools.unfreeze(s.lxcName);
      s.phase = 'running';
      s.reason = 'unpaused';
      await this.saveState(s, { type: 'resumed', detail: 'unpaused' });
      return s;
    });
    this.emit(s.name, s.uuid, s.monitorPid ?? -1, 'resumed', 'unpaused');
  }

  // ------------------------------------------------------------ DomainDriver: live changes

  /** Which definitions a change applies to (virDomainObjUpdateModificationImpact). */
  private impact(e: Entry, opts: DeviceChangeOptions): { live: boolean; config: boolean } {
    const active = isActive(e.state);
    let live = !!opts.live;
    let config = !!opts.config;
    if (!live && !config) {
      live = active;
      config = !active;
    }
    if (live && !active) throw notRunning(e.name);
    if (config && !e.config) throw err('OPERATION_INVALID', `Requested operation is not valid: transient domain '${e.name}' has no persistent definition to change`);
    return { live, config };
  }

  async setMemory(uuid: string, kib: number, opts: DeviceChangeOptions & { maximum?: boolean } = {}): Promise<void> {
    const e0 = await this.entryByUuid(uuid);
    await this.withDomainLock(e0.name, 'set memory', async () => {
      const e = (await this.readEntry(e0.name))!;
      const { live, config } = this.impact(e, opts);
      if (opts.maximum) {
        if (live) throw err('OPERATION_INVALID', `Requested operation is not valid: cannot resize the maximum memory of running domain '${e.name}'`);
        const def = e.config!;
        def.memory.total = kib;
        if (def.memory.current > kib) def.memory.current = kib;
        await this.store.writeDefinition(e.name, formatLxcDomain(def, { inactive: true, secure: true }));
        return;
      }
      if (live) {
        const s = await this.activeLocked(e);
        const def = e.live!;
        if (kib > def.memory.total) throw err('INVALID_ARG', `domain '${e.name}': cannot set memory higher than max memory (${def.memory.total} KiB)`);
        await setMemoryLimit(s.initPid!, kib * 1024, `domain '${e.name}'`);
        def.memory.current = kib;
        s.liveXml = formatLxcDomain(def, { id: s.monitorPid ?? -1, secure: true });
        await this.saveState(s);
      }
      if (config) {
        const def = e.config!;
        if (kib > def.memory.total) throw err('INVALID_ARG', `domain '${e.name}': cannot set memory higher than max memory (${def.memory.total} KiB)`);
        def.memory.current = kib;
        await this.store.writeDefinition(e.name, formatLxcDomain(def, { inactive: true, secure: true }));
      }
    });
  }

  /** Scheduler parameters as libvirt's LXC driver names them: cpu_shares, vcpu_period, vcpu_quota. */
  async getSchedulerParams(uuid: string, opts: DeviceChangeOptions = {}): Promise<Record<string, number>> {
    const e = await this.entryByUuid(uuid);
    const useLive = isActive(e.state) && !opts.config;
    const def = (useLive ? e.live : e.config ?? e.live)!;
    const out: Record<string, number> = {
      cpu_shares: def.cputune?.shares ?? 1024,
      vcpu_period: def.cputune?.period ?? 0,
      vcpu_quota: def.cputune?.quota ?? 0,
    };
    if (useLive && e.state?.initPid) {
      const st = await readCgroupStats(e.state.initPid).catch(() => undefined);
      if (st?.cpuShares !== undefined) out.cpu_shares = st.cpuShares;
    }
    return out;
  }

  async setSchedulerParams(uuid: string, params: Record<string, number>, opts: DeviceChangeOptions = {}): Promise<void> {
    for (const [k, v] of Object.entries(params)) {
      if (!['cpu_shares', 'vcpu_period', 'vcpu_quota'].includes(k)) throw err('INVALID_ARG', `unsupported scheduler parameter '${k}' (the LXC driver takes cpu_shares, vcpu_period, vcpu_quota)`);
      if (!Number.isInteger(v)) throw err('INVALID_ARG', `scheduler parameter '${k}' must be an integer`);
    }
    if (params.cpu_shares !== undefined && (params.cpu_shares < 2 || params.cpu_shares > 262144)) throw err('INVALID_ARG', 'cpu_shares must be between 2 and 262144');
    if (params.vcpu_period !== undefined && params.vcpu_period !== 0 && (params.vcpu_period < 1000 || params.vcpu_period > 1_000_000)) {
      throw err('INVALID_ARG', 'vcpu_period must be 0 or between 1000 and 1000000');
    }
    if (params.vcpu_quota !== undefined && params.vcpu_quota !== 0 && params.vcpu_quota !== -1 && params.vcpu_quota < 1000) {
      throw err('INVALID_ARG', 'vcpu_quota must be -1, 0 or at least 1000');
    }
    const e0 = await this.entryByUuid(uuid);
    await this.withDomainLock(e0.name, 'set scheduler parameters', async () => {
      const e = (await this.readEntry(e0.name))!;
      const { live, config } = this.impact(e, opts);
      const apply = (def: DomainDef) => {
        def.cputune ??= emptyCputune();
        if (params.cpu_shares !== undefined) def.cputune.shares = params.cpu_shares;
        if (params.vcpu_period !== undefined) def.cputune.period = params.vcpu_period || undefined;
        if (params.vcpu_quota !== undefined) def.cputune.quota = params.vcpu_quota || undefined;
      };
      if (live) {
        const s = await this.activeLocked(e);
        const what = `domain '${e.name}'`;
        if (params.cpu_shares !== undefined) await setCpuShares(s.initPid!, params.cpu_shares, what);
        if (params.vcpu_period !== undefined || params.vcpu_quota !== undefined) {
          await setCpuBandwidth(s.initPid!, params.vcpu_period || undefined, params.vcpu_quota === 0 ? -1 : params.vcpu_quota, what);
        }
        apply(e.live!);
        s.liveXml = formatLxcDomain(e.live!, { id: s.monitorPid ?? -1, secure: true });
        await this.saveState(s);
      }
      if (config) {
        apply(e.config!);
        await this.store.writeDefinition(e.name, formatLxcDomain(e.config!, { inactive: true, secure: true }));
      }
    });
  }

  async openConsole(uuid: string, opts: { device?: string; force?: boolean } = {}): Promise<Duplex> {
    const e = await this.entryByUuid(uuid);
    if (!isActive(e.state)) throw notRunning(e.name);
    let tty = 0;
    if (opts.device !== undefined) {
      const m = /^console([0-9]+)$/.exec(opts.device);
      const count = Math.max(1, (e.live ?? e.config)!.devices.consoles.length);
      if (!m || Number(m[1]) >= count) throw err('INVALID_ARG', `domain '${e.name}': no console device '${opts.device}' (it has console0${count > 1 ? `…console${count - 1}` : ''})`);
      tty = Number(m[1]);
    }
    return openContainerConsole(this.tools.consoleArgv(e.state.lxcName, tty), `domain '${e.name}' console`);
  }

  // ------------------------------------------------------------ native formats

  async xmlFromNative(format: string, config: string): Promise<string> {
    if (format !== LXC_NATIVE_FORMAT) throw err('INVALID_ARG', `unsupported config type '${format}' (the LXC driver reads '${LXC_NATIVE_FORMAT}')`);
    return lxcConfigToDomainXml(config);
  }

  async xmlToNative(format: string, xml: string): Promise<string> {
    if (format !== LXC_NATIVE_FORMAT) throw err('INVALID_ARG', `unsupported config type '${format}' (the LXC driver writes '${LXC_NATIVE_FORMAT}')`);
    return lxcDomainXmlToConfig(xml);
  }

  // ------------------------------------------------------------ watching

  /**
   * While someone listens for events: records containers that died, and
   * replays changes other processes made (their last event per domain).
   */
  private async watchTick(): Promise<void> {
    if (this.closed || this.watching || this.events.listenerCount() === 0) return;
    this.watching = true;
    try {
      for (const name of await this.store.stateNames()) {
        const s = await this.store.readState(name);
        if (!s) continue;
        if (isActive(s)) {
          const alive = processAlive(s.monitorPid, s.monitorStartTicks);
          const orphaned = s.autodestroyPid !== undefined && !(processAlive(s.autodestroyPid));
          if (!alive || orphaned) {
            await this.reap(name).catch(() => {});
            continue;
          }
        }
        const before = this.seen.get(name);
        this.seen.set(name, s.seq);
        const writer = s.writer;
        if (before === undefined || before === s.seq || !s.lastEvent || writer === this.writer) continue;
        const id = isActive(s) ? s.monitorPid ?? -1 : -1;
        this.events.emit({ ...domainEvent(s.lastEvent.type as DomainEventType, s.lastEvent.detail as never, { name: s.name, uuid: s.uuid, id }), timestamp: s.lastEvent.at });
      }
    } catch {
      /* the next tick tries again */
    } finally {
      this.watching = false;
    }
  }
}

export { LXC_PARSER_CONFIG };
