/**
 * The local network driver: libvirt's bridge_driver.c without a daemon.
 * Definitions live in `<config>/network`, runtime state in
 * `<runtime>/network` (see state.ts), DHCP leases in `<data>/network`.
 * Every change takes one cross-process lock (`<runtime>/network/driver.lock`),
 * so two processes never start, stop or update networks at the same time
 * and checks against the other networks see a consistent picture.
 *
 * The host side is done by the network mode packages (mode.ts), found
 * through the plugin loader by forward mode.
 */
import { join } from 'node:path';
import type {
  DeviceChangeOptions,
  DhcpLease,
  NetworkDriver,
  NetworkKey,
  NetworkSummary,
  NetworkUpdateCommand,
  NetworkUpdateSection,
  PluginResolver,
} from '../driver.js';
import { processAlive } from '../host-process.js';
import { VirtError, type ErrorCode } from '../errors.js';
import { networkEvent, type EventBus } from '../events.js';
import { isSafeObjectName } from '../files.js';
import { FileLock } from '../locks.js';
import { tryParseIpAddress } from '../models/network/address.js';
import { assignBridgeName } from '../models/network/bridge-name.js';
import { formatNetworkXml } from '../models/network/format.js';
import { networkIpPrefix } from '../models/network/ip.js';
import { ensureBridgeMac } from '../models/network/mac.js';
import { parseNetworkXml } from '../models/network/parse.js';
import { ipInSubnet, ipSubnetsOverlap } from '../models/network/subnet.js';
import { networkForwardMode, networkIsL3Managed, type NetworkDef } from '../models/network/types.js';
import { validateNetworkDef } from '../models/network/validate.js';
import { stateDirsFor, type StateDirs } from '../paths.js';
import type { VirtUri } from '../uri.js';
import { generateUuid, parseMac } from '../xml/values.js';
import { escapeXml } from '../xml/write.js';
import { NetworkDefinitionStore } from './definitions.js';
import { HostCommandRunner } from './host-command.js';
import { hostLinkExists, listHostLinks, listHostRoutes } from './host-links.js';
import { asNetworkMode, type NetworkMode, type NetworkModeContext, type NetworkUndoStep } from './mode.js';
import type { NetworkPort, NetworkPortRequest } from './ports.js';
import { readNetworkSettings, type NetworkDriverSettings } from './settings.js';
import {
  listNetworkStateNames,
  readNetworkState,
  removeNetworkState,
  writeNetworkState,
  type NetworkRuntimeState,
} from './state.js';
import { applyNetworkUpdate } from './update.js';

const ORIGIN = { origin: 'network' };

function err(code: ErrorCode, message: string, cause?: unknown): VirtError {
  return new VirtError(code, message, { ...ORIGIN, ...(cause === undefined ? {} : { cause }) });
}

/** Forward modes whose guests plug into a Linux bridge (the only kind of port virtkit hands out). */
const BRIDGED_MODES = new Set(['none', 'nat', 'route', 'open', 'bridge']);

/** The package to install for a forward mode, for error messages. */
function modePackage(mode: string): string {
  return mode === 'none' ? '@virtkit/network-isolated' : `@virtkit/network-${mode}`;
}

function cloneDef(def: NetworkDef): NetworkDef {
  return parseNetworkXml(formatNetworkXml(def));
}

/** The live definition of a state; a bare one when the recorded XML cannot be read (undo needs only the name). */
function stateDef(st: NetworkRuntimeState): NetworkDef {
  try {
    return parseNetworkXml(st.xml);
  } catch {
    return parseNetworkXml(`<network><name>${escapeXml(st.name)}</name><uuid>${st.uuid}</uuid></network>`);
  }
}

/** One network as the files describe it. */
interface NetworkEntry {
  name: string;
  uuid: string;
  /** The persistent definition, when there is one. */
  config?: NetworkDef;
  state?: NetworkRuntimeState;
  /** The live definition of a started network. */
  live?: NetworkDef;
  autostart: boolean;
}

const isActive = (e: NetworkEntry) => e.state?.phase === 'active' || e.state?.phase === 'stopping';

export interface LocalNetworkDriverOptions {
  dirs: StateDirs;
  events: EventBus;
  plugins: PluginResolver;
  /** Overrides `<config>/network.conf`. */
  settings?: NetworkDriverSettings;
}

export class LocalNetworkDriver implements NetworkDriver {
  readonly dirs: StateDirs;
  /** `<runtime>/network`. */
  readonly runtimeDir: string;
  /** `<data>/network`. */
  readonly dataDir: string;
  readonly definitions: NetworkDefinitionStore;
  private readonly events: EventBus;
  private readonly plugins: PluginResolver;
  private settingsValue?: NetworkDriverSettings;
  private runnerValue?: HostCommandRunner;
  private readyPromise?: Promise<void>;
  /** Autostart failures of this process (autostart never fails an API call). */
  readonly autostartErrors: Array<{ network: string; error: VirtError }> = [];

  constructor(opts: LocalNetworkDriverOptions) {
    this.dirs = opts.dirs;
    this.runtimeDir = join(opts.dirs.runtime, 'network');
    this.dataDir = join(opts.dirs.data, 'network');
    this.definitions = new NetworkDefinitionStore(opts.dirs.config);
    this.events = opts.events;
    this.plugins = opts.plugins;
    if (opts.settings) {
      this.settingsValue = opts.settings;
      this.runnerValue = new HostCommandRunner(opts.settings.netns);
    }
  }

  // ------------------------------------------------------------ plumbing

  /** network.conf, read once. */
  async settings(): Promise<NetworkDriverSettings> {
    if (!this.settingsValue) {
      this.settingsValue = await readNetworkSettings(this.dirs.config);
      this.runnerValue = new HostCommandRunner(this.settingsValue.netns);
    }
    return this.settingsValue;
  }

  /** The command runner (inside network.conf's namespace, if any). */
  async runner(): Promise<HostCommandRunner> {
    await this.settings();
    return this.runnerValue!;
  }

  /** Runs once per driver: crash recovery, then autostart. */
  private ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      await this.settings();
      await this.recover();
      await this.autostart();
    })().catch((e: unknown) => {
      this.readyPromise = undefined;
      throw e;
    });
    return this.readyPromise;
  }

  private withLock<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return FileLock.with(join(this.runtimeDir, 'driver.lock'), `the network driver (${what})`, fn);
  }

  private emit(type: 'defined' | 'undefined' | 'started' | 'stopped', e: { name: string; uuid: string }): void {
    this.events.emit(networkEvent(type, { name: e.name, uuid: e.uuid }));
  }

  private async modeFor(forwardMode: string, networkName: string): Promise<NetworkMode> {
    const found = asNetworkMode(await this.plugins.networkMode(forwardMode));
    if (!found) {
      throw err(
        'NO_SUPPORT',
        `network '${networkName}': no network mode for forward mode '${forwardMode}' is installed (install ${modePackage(forwardMode)})`,
      );
    }
    return found;
  }

  private async tryModeFor(forwardMode: string): Promise<NetworkMode | undefined> {
    try {
      return asNetworkMode(await this.plugins.networkMode(forwardMode));
    } catch {
      return undefined;
    }
  }

  private async readEntry(name: string): Promise<NetworkEntry | undefined> {
    const [xml, state] = await Promise.all([this.definitions.read(name), readNetworkState(this.runtimeDir, name)]);
    if (xml === undefined && !state) return undefined;
    let config: NetworkDef | undefined;
    if (xml !== undefined) {
      try {
        config = parseNetworkXml(xml);
      } catch (e) {
        throw err('INTERNAL_ERROR', `network definition ${this.definitions.path(name)} cannot be read: ${(e as Error).message}`, e);
      }
    }
    const live = state ? parseNetworkXml(state.xml) : undefined;
    const ref = live ?? config!;
    return { name: ref.name, uuid: ref.uuid, config, state, live, autostart: config ? await this.definitions.isAutostart(name) : false };
  }

  private async allEntries(): Promise<NetworkEntry[]> {
    const names = new Set([...(await this.definitions.names()), ...(await listNetworkStateNames(this.runtimeDir))]);
    const out: NetworkEntry[] = [];
    for (const n of [...names].sort()) {
      // A definition that cannot be read is skipped, as libvirt skips it at load time.
      const e = await this.readEntry(n).catch(() => undefined);
      if (e) out.push(e);
    }
    return out;
  }

  private async entry(key: NetworkKey): Promise<NetworkEntry> {
    if ('name' in key) {
      const e = isSafeObjectName(key.name) ? await this.readEntry(key.name) : undefined;
      if (!e) throw err('NO_NETWORK', `Network not found: no network with matching name '${key.name}'`);
      return e;
    }
    const e = (await this.allEntries()).find((x) => x.uuid === key.uuid);
    if (!e) throw err('NO_NETWORK', `Network not found: no network with matching uuid '${key.uuid}'`);
    return e;
  }

  private summary(e: NetworkEntry): NetworkSummary {
    const s: NetworkSummary = { name: e.name, uuid: e.uuid, active: isActive(e), persistent: !!e.config, autostart: e.autostart };
    const br = (e.live ?? e.config)?.bridge?.name;
    if (br) s.bridge = br;
    return s;
  }

  /** The context a mode works in for one network. */
  private async context(def: NetworkDef, state: NetworkRuntimeState): Promise<NetworkModeContext> {
    const runner = await this.runner();
    const settings = await this.settings();
    const runtimeDir = this.runtimeDir;
    return {
      def,
      runner,
      runtimeDir,
      dataDir: this.dataDir,
      settings,
      get steps() {
        return state.steps;
      },
      data: state.data,
      async record(step: NetworkUndoStep) {
        state.steps.push(step);
        await writeNetworkState(runtimeDir, state);
      },
      async saveData() {
        await writeNetworkState(runtimeDir, state);
      },
    };
  }

  /** A state-less context (leases of an inactive network). */
  private async idleContext(def: NetworkDef): Promise<NetworkModeContext> {
    return this.context(def, {
      version: 1, name: def.name, uuid: def.uuid, phase: 'active', mode: networkForwardMode(def), xml: '', steps: [], data: {}, ports: [], startedAt: 0,
    });
  }

  // ------------------------------------------------------------ starting and stopping

  /**
   * Undoes a state's recorded steps, newest first. Steps that fail stay in
   * state.steps (for a later retry); their errors are returned.
   */
  private async undoSteps(state: NetworkRuntimeState, def: NetworkDef): Promise<VirtError[]> {
    const failures: VirtError[] = [];
    if (!state.steps.length) return failures;
    const mode = await this.modeFor(state.mode, state.name);
    const ctx = await this.context(def, state);
    const remaining: NetworkUndoStep[] = [];
    for (const step of [...state.steps].reverse()) {
      try {
        await mode.undo(step, ctx);
      } catch (e) {
        remaining.unshift(step);
        failures.push(e instanceof VirtError ? e : err('SYSTEM_ERROR', `network '${state.name}': cannot undo ${step.kind}: ${(e as Error).message}`, e));
      }
    }
    state.steps = remaining;
    return failures;
  }

  /** Tears a network down: undo everything, drop the state; a failure leaves the state (phase stopping) for a retry. */
  private async teardown(state: NetworkRuntimeState, def: NetworkDef): Promise<void> {
    state.phase = 'stopping';
    state.owner = process.pid;
    await writeNetworkState(this.runtimeDir, state);
    const failures = await this.undoSteps(state, def);
    if (failures.length) {
      await writeNetworkState(this.runtimeDir, state);
      throw err(
        'OPERATION_FAILED',
        `network '${state.name}': could not remove everything it added: ${failures.map((f) => f.message).join('; ')}`,
        failures[0],
      );
    }
    await removeNetworkState(this.runtimeDir, state.name);
  }

  /** Refuses to start next to a network or host route that already uses the bridge or a subnet. */
  private async checkStartConflicts(def: NetworkDef, others: NetworkEntry[]): Promise<void> {
    const where = `network '${def.name}'`;
    const br = def.bridge?.name;
    const subnets = def.ips
      .map((ip) => ({ ip, addr: tryParseIpAddress(ip.address), prefix: networkIpPrefix(ip) }))
      .filter((s): s is { ip: (typeof def.ips)[number]; addr: NonNullable<ReturnType<typeof tryParseIpAddress>>; prefix: number } => !!s.addr && s.prefix >= 0);
    for (const o of others) {
      if (o.name === def.name || !isActive(o) || !o.live) continue;
      if (br && networkIsL3Managed(def) && o.live.bridge?.name === br) {
        throw err('RESOURCE_BUSY', `${where}: bridge name '${br}' is already in use by network '${o.name}'`);
      }
      for (const s of subnets) {
        for (const oip of o.live.ips) {
          const oa = tryParseIpAddress(oip.address);
          const op = networkIpPrefix(oip);
          if (oa && op >= 0 && ipSubnetsOverlap(s.addr, s.prefix, oa, op)) {
            throw err('RESOURCE_BUSY', `${where}: subnet ${s.ip.address}/${s.prefix} overlaps subnet ${oip.address}/${op} of active network '${o.name}'`);
          }
        }
      }
    }
    if (!networkIsL3Managed(def)) return;
    const runner = await this.runner();
    if (br && (await hostLinkExists(runner, br))) {
      throw err('RESOURCE_BUSY', `${where}: bridge name '${br}' is already in use by a host network device`);
    }
    if (!subnets.length) return;
    // A host route into the subnet (libvirt's networkCheckRouteCollision): traffic would not reach the bridge.
    for (const r of await listHostRoutes(runner)) {
      if (r.dev === br) continue;
      const dst = tryParseIpAddress(r.dst, r.family);
      if (!dst) continue;
      for (const s of subnets) {
        if (dst.family === s.addr.family && r.prefix >= s.prefix && ipInSubnet(dst, s.addr, s.prefix)) {
          throw err(
            'RESOURCE_BUSY',
            `${where}: subnet ${s.ip.address}/${s.prefix} is already in use by interface ${r.dev ?? '?'} (route ${r.dst}/${r.prefix})`,
          );
        }
      }
    }
  }

  /** Starts a definition (the lock is held). On any failure everything done so far is undone. */
  private async startDef(def: NetworkDef, entries: NetworkEntry[]): Promise<void> {
    const fwd = networkForwardMode(def);
    const mode = await this.modeFor(fwd, def.name);
    validateNetworkDef(def);
    mode.validate?.(def);
    await this.checkStartConflicts(def, entries);
    const state: NetworkRuntimeState = {
      version: 1,
      name: def.name,
      uuid: def.uuid,
      phase: 'starting',
      owner: process.pid,
      mode: fwd,
      xml: formatNetworkXml(def),
      steps: [],
      data: {},
      ports: [],
      startedAt: Date.now(),
    };
    await writeNetworkState(this.runtimeDir, state);
    const ctx = await this.context(def, state);
    try {
      await mode.prepare?.(ctx);
      await mode.start(ctx);
    } catch (e) {
      const failures = await this.undoSteps(state, def).catch((u: unknown) => [u as VirtError]);
      if (failures.length) {
        // Left for the next process's recovery to retry.
        state.phase = 'stopping';
        await writeNetworkState(this.runtimeDir, state).catch(() => {});
      } else {
        await removeNetworkState(this.runtimeDir, def.name).catch(() => {});
      }
      throw e;
    }
    state.phase = 'active';
    delete state.owner;
    await writeNetworkState(this.runtimeDir, state);
  }

  /** Drops ports whose process is gone. Returns whether any were dropped. */
  private prunePorts(state: NetworkRuntimeState): boolean {
    const before = state.ports.length;
    state.ports = state.ports.filter((p) => p.pid === undefined || processAlive(p.pid));
    return state.ports.length !== before;
  }

  private refuseIfUsed(e: NetworkEntry, what: string): void {
    const st = e.state;
    if (!st) return;
    if (st.ports.length) {
      const owners = [...new Set(st.ports.map((p) => p.owner.name))];
      throw err('RESOURCE_BUSY', `cannot ${what} network '${e.name}': it is still in use by ${st.ports.length} guest interface(s) of ${owners.map((o) => `'${o}'`).join(', ')}`);
    }
  }

  // ------------------------------------------------------------ recovery and autostart

  /** Rolls back interrupted transitions, and cleans up or repairs started networks whose pieces vanished. */
  private async recover(): Promise<void> {
    const names = await listNetworkStateNames(this.runtimeDir);
    if (!names.length) return;
    await this.withLock('recover networks', async () => {
      for (const name of names) {
        const st = await readNetworkState(this.runtimeDir, name).catch(() => undefined);
        if (!st) continue;
        const def = stateDef(st);
        if (st.phase !== 'active') {
          // Under the lock nobody is mid-transition: this was interrupted by a crash.
          const wasActive = st.phase === 'stopping';
          await this.teardown(st, def).catch(() => {});
          if (wasActive) this.emit('stopped', st);
          continue;
        }
        const mode = await this.tryModeFor(st.mode);
        if (!mode?.health) continue;
        const ctx = await this.context(def, st);
        const health = await mode.health(ctx).catch(() => undefined);
        if (!health) continue;
        if (!health.present) {
          await this.teardown(st, def).catch(() => {});
          this.emit('stopped', st);
        } else if (health.problems.length && mode.repair) {
          await mode.repair(ctx, health.problems).catch(() => {});
        }
      }
    });
  }

  /** Starts autostart networks once per runtime directory (per boot for /run). */
  private async autostart(): Promise<void> {
    const settings = await this.settings();
    if (!settings.autostart) return;
    const marker = join(this.runtimeDir, 'autostarted');
    const { access, mkdir, writeFile } = await import('node:fs/promises');
    if (await access(marker).then(() => true, () => false)) return;
    const entries = await this.allEntries();
    const wanted = entries.filter((e) => e.autostart && e.config && !isActive(e));
    await mkdir(this.runtimeDir, { recursive: true });
    await writeFile(marker, `${process.pid}\n`);
    for (const e of wanted) {
      try {
        await this.withLock(`autostart network '${e.name}'`, async () => {
          const fresh = await this.readEntry(e.name);
          if (!fresh?.config || isActive(fresh)) return;
          await this.startDef(cloneDef(fresh.config), await this.allEntries());
        });
        this.emit('started', e);
      } catch (x) {
        this.autostartErrors.push({ network: e.name, error: x instanceof VirtError ? x : err('INTERNAL_ERROR', String(x), x) });
      }
    }
  }

  // ------------------------------------------------------------ define-time

  /** Parses and checks a definition the way networkValidate does, giving an L3 network its bridge name and MAC. */
  private async prepareDefinition(xml: string, entries: NetworkEntry[]): Promise<NetworkDef> {
    const def = parseNetworkXml(xml);
    if (!isSafeObjectName(def.name)) throw err('XML_ERROR', `network name '${def.name}' cannot contain '/'`);
    validateNetworkDef(def);
    (await this.tryModeFor(networkForwardMode(def)))?.validate?.(def);
    const byName = entries.find((e) => e.name === def.name);
    const byUuid = entries.find((e) => e.uuid === def.uuid);
    if (byName && byName.uuid !== def.uuid) {
      throw err('NETWORK_EXIST', `network '${def.name}' is already defined with uuid ${byName.uuid}`);
    }
    if (byUuid && byUuid.name !== def.name) {
      throw err('NETWORK_EXIST', `network '${byUuid.name}' already exists with uuid ${def.uuid}`);
    }
    if (networkIsL3Managed(def)) {
      const others = entries.filter((e) => e.name !== def.name);
      const used = new Set<string>();
      for (const o of others) for (const d of [o.config, o.live]) if (d?.bridge?.name) used.add(d.bridge.name);
      const given = def.bridge?.name;
      if (given !== undefined && !given.includes('%d')) {
        if (used.has(given)) throw err('RESOURCE_BUSY', `network '${def.name}': bridge name '${given}' already in use.`);
      } else {
        // A running network keeps the name it was given.
        const mine = byName?.live?.bridge?.name ?? byName?.config?.bridge?.name;
        const hostNames = new Set((await listHostLinks(await this.runner()).catch(() => [])).map((l) => l.name));
        assignBridgeName(def, (n) => n !== mine && (used.has(n) || hostNames.has(n)));
      }
      ensureBridgeMac(def);
    }
    return def;
  }

  // ------------------------------------------------------------ NetworkDriver

  async listNetworks(): Promise<NetworkSummary[]> {
    await this.ready();
    return (await this.allEntries()).map((e) => this.summary(e));
  }

  async lookupNetwork(key: NetworkKey): Promise<NetworkSummary> {
    await this.ready();
    return this.summary(await this.entry(key));
  }

  async defineNetwork(xml: string): Promise<NetworkSummary> {
    await this.ready();
    return this.withLock('define', async () => {
      const entries = await this.allEntries();
      const def = await this.prepareDefinition(xml, entries);
      await this.definitions.write(def.name, formatNetworkXml(def, { inactive: true }));
      this.emit('defined', def);
      return this.summary((await this.readEntry(def.name))!);
    });
  }

  async createNetwork(xml: string): Promise<NetworkSummary> {
    await this.ready();
    const summary = await this.withLock('create', async () => {
      const entries = await this.allEntries();
      const def = await this.prepareDefinition(xml, entries);
      const existing = entries.find((e) => e.name === def.name);
      if (existing && isActive(existing)) throw err('OPERATION_INVALID', `network '${def.name}' is already active`);
      await this.startDef(def, entries);
      return this.summary((await this.readEntry(def.name))!);
    });
    this.emit('started', summary);
    return summary;
  }

  async undefineNetwork(uuid: string): Promise<void> {
    await this.ready();
    const e = await this.withLock('undefine', async () => {
      const e = await this.entry({ uuid });
      if (!e.config) throw err('OPERATION_INVALID', `network '${e.name}': can't undefine transient network`);
      if (e.state && this.prunePorts(e.state)) await writeNetworkState(this.runtimeDir, e.state);
      this.refuseIfUsed(e, 'undefine');
      await this.definitions.remove(e.name);
      return e;
    });
    this.emit('undefined', e);
  }

  async startNetwork(uuid: string): Promise<void> {
    await this.ready();
    const e = await this.withLock('start', async () => {
      const entries = await this.allEntries();
      const e = entries.find((x) => x.uuid === uuid);
      if (!e) throw err('NO_NETWORK', `Network not found: no network with matching uuid '${uuid}'`);
      if (isActive(e)) throw err('OPERATION_INVALID', `network '${e.name}' is already active`);
      if (!e.config) throw err('OPERATION_INVALID', `network '${e.name}' has no persistent definition to start`);
      await this.startDef(cloneDef(e.config), entries);
      return e;
    });
    this.emit('started', e);
  }

  async destroyNetwork(uuid: string): Promise<void> {
    await this.ready();
    const e = await this.withLock('destroy', async () => {
      const e = await this.entry({ uuid });
      if (!isActive(e) || !e.state || !e.live) throw err('OPERATION_INVALID', `network '${e.name}' is not active`);
      if (this.prunePorts(e.state)) await writeNetworkState(this.runtimeDir, e.state);
      this.refuseIfUsed(e, 'destroy');
      await this.teardown(e.state, e.live);
      return e;
    });
    this.emit('stopped', e);
  }

  async setNetworkAutostart(uuid: string, autostart: boolean): Promise<void> {
    await this.ready();
    await this.withLock('autostart', async () => {
      const e = await this.entry({ uuid });
      if (!e.config) throw err('OPERATION_INVALID', `network '${e.name}': cannot set autostart for transient network`);
      await this.definitions.setAutostart(e.name, autostart);
    });
  }

  async getNetworkXml(uuid: string, opts: { inactive?: boolean } = {}): Promise<string> {
    await this.ready();
    const e = await this.entry({ uuid });
    if (isActive(e) && e.live && !(opts.inactive && e.config)) {
      const live = e.live;
      const used = e.state!.ports.filter((p) => p.pid === undefined || processAlive(p.pid)).length;
      if (used) live.connections = used;
      return formatNetworkXml(live);
    }
    return formatNetworkXml((e.config ?? e.live)!, { inactive: true });
  }

  async updateNetwork(
    uuid: string,
    command: NetworkUpdateCommand,
    section: NetworkUpdateSection,
    xml: string,
    opts: DeviceChangeOptions & { parentIndex?: number } = {},
  ): Promise<void> {
    await this.ready();
    await this.withLock('update', async () => {
      const e = await this.entry({ uuid });
      const active = isActive(e);
      let live = !!opts.live;
      let config = !!opts.config;
      if (!live && !config) {
        if (active) live = true;
        else config = true;
      }
      if (live && !active) throw err('OPERATION_INVALID', `network '${e.name}' is not running: cannot apply a live update`);
      if (config && !e.config) throw err('OPERATION_INVALID', `network '${e.name}': cannot change persistent config of a transient network`);
      // Both new definitions are built and checked before anything is applied.
      let newConfig: NetworkDef | undefined;
      let newLive: NetworkDef | undefined;
      if (config) {
        newConfig = cloneDef(e.config!);
        applyNetworkUpdate(newConfig, command, section, xml, opts.parentIndex);
        validateNetworkDef(newConfig);
      }
      if (live) {
        newLive = cloneDef(e.live!);
        applyNetworkUpdate(newLive, command, section, xml, opts.parentIndex);
        validateNetworkDef(newLive);
      }
      if (newLive) {
        const st = e.state!;
        const previousXml = st.xml;
        const previous = e.live!;
        st.xml = formatNetworkXml(newLive);
        await writeNetworkState(this.runtimeDir, st);
        const mode = await this.modeFor(st.mode, e.name);
        try {
          await mode.update?.(await this.context(newLive, st), { section, previous });
        } catch (x) {
          // Put the previous live state back, on disk and on the host.
          st.xml = previousXml;
          await writeNetworkState(this.runtimeDir, st);
          await mode.update?.(await this.context(previous, st), { section, previous: newLive }).catch(() => {});
          throw x;
        }
      }
      if (newConfig) await this.definitions.write(e.name, formatNetworkXml(newConfig, { inactive: true }));
    });
  }

  async getDhcpLeases(uuid: string, mac?: string): Promise<DhcpLease[]> {
    let wanted: string | undefined;
    if (mac !== undefined) {
      try {
        wanted = parseMac(mac);
      } catch {
        throw err('INVALID_MAC', `invalid MAC address '${mac}'`);
      }
    }
    await this.ready();
    const e = await this.entry({ uuid });
    const def = (e.live ?? e.config)!;
    const mode = await this.tryModeFor(networkForwardMode(def));
    if (!mode?.dhcpLeases) return [];
    const ctx = e.state && e.live ? await this.context(e.live, e.state) : await this.idleContext(def);
    const now = Math.floor(Date.now() / 1000);
    return (await mode.dhcpLeases(ctx)).filter((l) => (wanted === undefined || l.mac === wanted) && !(l.expiryTime > 0 && l.expiryTime < now));
  }

  // ------------------------------------------------------------ ports (for hypervisor drivers)

  /**
   * Gives a guest NIC a port on a running network: what to plug into
   * (bridge, MTU, VLAN/bandwidth of the portgroup) and a record that
   * keeps the network from being destroyed while the guest runs.
   */
  async allocatePort(req: NetworkPortRequest): Promise<NetworkPort> {
    if (!req || typeof req.network !== 'string' || !req.owner || typeof req.owner.name !== 'string' || typeof req.owner.uuid !== 'string') {
      throw err('INVALID_ARG', 'a network port request needs the network name and the owner name and uuid');
    }
    let mac: string;
    try {
      mac = parseMac(req.mac);
    } catch {
      throw err('INVALID_MAC', `network '${req.network}': invalid MAC address '${String(req.mac)}' for a port of '${req.owner.name}'`);
    }
    await this.ready();
    return this.withLock('allocate port', async () => {
      const e = await this.entry({ name: req.network });
      if (!isActive(e) || !e.state || !e.live) throw err('OPERATION_INVALID', `network '${e.name}' is not active`);
      const def = e.live;
      const fwd = networkForwardMode(def);
      const bridge = def.bridge?.name;
      if (!BRIDGED_MODES.has(fwd) || !bridge) {
        throw err('NO_SUPPORT', `network '${e.name}': guests cannot be attached to a network with forward mode '${fwd}'${bridge ? '' : ' and no bridge'}`);
      }
      const pg = req.portgroup !== undefined ? def.portGroups.find((p) => p.name === req.portgroup) : def.portGroups.find((p) => p.isDefault);
      if (req.portgroup !== undefined && !pg) throw err('INVALID_ARG', `network '${e.name}' has no portgroup '${req.portgroup}'`);
      const port: NetworkPort = {
        uuid: generateUuid(),
        network: e.name,
        networkUuid: e.uuid,
        owner: { name: req.owner.name, uuid: req.owner.uuid },
        mac,
        type: 'bridge',
        bridge,
        createdAt: Date.now(),
      };
      if (pg) port.portgroup = pg.name;
      if (def.mtu) port.mtu = def.mtu;
      if (def.bridge?.macTableManager) port.macTableManager = def.bridge.macTableManager;
      if (def.portIsolated !== undefined) port.isolated = def.portIsolated;
      const trust = pg?.trustGuestRxFilters ?? def.trustGuestRxFilters;
      if (trust !== undefined) port.trustGuestRxFilters = trust;
      const vlan = pg?.vlan ?? def.vlan;
      if (vlan) port.vlan = vlan;
      const bandwidth = pg?.bandwidth;
      if (bandwidth) port.bandwidth = bandwidth;
      const vp = pg?.virtualPort ?? def.virtualPort;
      if (vp) port.virtualPort = vp;
      if (req.ifname !== undefined) port.ifname = req.ifname;
      if (req.pid !== undefined) port.pid = req.pid;
      this.prunePorts(e.state);
      e.state.ports.push(port);
      await writeNetworkState(this.runtimeDir, e.state);
      return port;
    });
  }

  /** Records the host device or process of a port once the hypervisor driver knows them. */
  async updatePort(portUuid: string, change: { ifname?: string; pid?: number }): Promise<NetworkPort> {
    await this.ready();
    return this.withLock('update port', async () => {
      for (const e of await this.allEntries()) {
        const p = e.state?.ports.find((x) => x.uuid === portUuid);
        if (!p) continue;
        if (change.ifname !== undefined) p.ifname = change.ifname;
        if (change.pid !== undefined) p.pid = change.pid;
        await writeNetworkState(this.runtimeDir, e.state!);
        return p;
      }
      throw err('NO_NETWORK', `network port ${portUuid} not found`);
    });
  }

  /** Releases a port (a no-op for a port that is already gone). */
  async releasePort(portUuid: string): Promise<void> {
    await this.ready();
    await this.withLock('release port', async () => {
      for (const e of await this.allEntries()) {
        const st = e.state;
        if (!st) continue;
        const n = st.ports.length;
        st.ports = st.ports.filter((p) => p.uuid !== portUuid);
        if (st.ports.length !== n) {
          await writeNetworkState(this.runtimeDir, st);
          return;
        }
      }
    });
  }

  /** Releases every port a guest holds (on every network). */
  async releasePortsOf(ownerUuid: string): Promise<number> {
    await this.ready();
    return this.withLock('release ports', async () => {
      let released = 0;
      for (const e of await this.allEntries()) {
        const st = e.state;
        if (!st) continue;
        const n = st.ports.length;
        st.ports = st.ports.filter((p) => p.owner.uuid !== ownerUuid);
        if (st.ports.length !== n) {
          released += n - st.ports.length;
          await writeNetworkState(this.runtimeDir, st);
        }
      }
      return released;
    });
  }

  /** Live ports, of one network or all. */
  async listPorts(network?: string): Promise<NetworkPort[]> {
    await this.ready();
    const entries = network !== undefined ? [await this.entry({ name: network })] : await this.allEntries();
    return entries.flatMap((e) => (e.state?.ports ?? []).filter((p) => p.pid === undefined || processAlive(p.pid)));
  }
}

/**
 * The local network driver of a local URI (`qemu:///system`,
 * `lxc:///embed?root=DIR`, …). Hypervisor drivers use it for ports:
 * `(await openLocalNetworkDriver(ctx.uri, ctx)).allocatePort(…)`.
 */
export async function openLocalNetworkDriver(
  uri: VirtUri,
  ctx: { events: EventBus; plugins: PluginResolver; settings?: NetworkDriverSettings },
): Promise<LocalNetworkDriver> {
  return new LocalNetworkDriver({ dirs: stateDirsFor(uri), events: ctx.events, plugins: ctx.plugins, ...(ctx.settings ? { settings: ctx.settings } : {}) });
}
