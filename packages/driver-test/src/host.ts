import { readFile, writeFile } from 'node:fs/promises';
import {
  domainEvent,
  EventBus,
  formatInterfaceXml,
  formatNetworkXml,
  formatStoragePoolXml,
  formatStorageVolXml,
  generateUuid,
  isSafeObjectName,
  networkEvent,
  parseInterfaceXml,
  parseNetworkXml,
  parseStoragePoolXml,
  parseStorageVolXml,
  poolEvent,
  requireKnownXml,
  VirtError,
  type DhcpLease,
  type DomainDef,
  type DomainDriver,
  type DomainEventDetail,
  type DomainEventType,
  type DomainInfo,
  type DomainKey,
  type DomainState,
  type DomainStats,
  type DomainSummary,
  type InterfaceDef,
  type InterfaceDriver,
  type InterfaceKey,
  type InterfaceSummary,
  type NetworkDef,
  type NetworkDriver,
  type NetworkKey,
  type NetworkSummary,
  type NodeInfo,
  type PoolInfo,
  type PoolKey,
  type PoolState,
  type PoolSummary,
  type StorageDriver,
  type StoragePoolDef,
  type StorageVolDef,
  type VirtEvent,
  type VolumeInfo,
  type VolumeKey,
  type VolumeSummary,
} from '@virtkit/core';
import { domainFacts as F, formatTestDomain, parseTestDomain } from './domain-doc.js';

/** A NUMA cell of the fake host. */
export interface TestCell {
  memKiB: number;
  cpus: number[];
}

export interface TestDomain {
  /** Persistent (next boot) definition; the live one while running. */
  def: DomainDef;
  live?: DomainDef;
  id: number;
  state: DomainState;
  reason: string;
  persistent: boolean;
  autostart: boolean;
  managedSave?: { xml: string; state: DomainState };
  startedAt: number;
}

export interface TestNetwork {
  def: NetworkDef;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
}

export interface TestPool {
  def: StoragePoolDef;
  state: PoolState;
  persistent: boolean;
  autostart: boolean;
  volumes: Map<string, StorageVolDef>;
}

export interface TestInterface {
  def: InterfaceDef;
  active: boolean;
}

/** Gives each NIC without a target device `testnetN`, as libvirt's testDomainGenerateIfnames. */
function nameInterfaces(def: DomainDef): void {
  const used = new Set(def.devices.interfaces.map((i) => i.ifname).filter(Boolean));
  let n = 0;
  for (const nic of def.devices.interfaces) {
    if (nic.ifname) continue;
    while (used.has(`testnet${n}`)) n++;
    nic.ifname = `testnet${n}`;
    used.add(nic.ifname);
  }
}

/** 100 GiB: the capacity libvirt's test driver gives every pool. */
const POOL_CAPACITY = 100n * 1024n * 1024n * 1024n;

const SAVE_MAGIC = 'VirtkitTestSave\n';

function noDomain(key: DomainKey | string): VirtError {
  const what = typeof key === 'string' ? `uuid '${key}'` : 'name' in key ? `name '${key.name}'` : 'uuid' in key ? `uuid '${key.uuid}'` : `id ${key.id}`;
  return new VirtError('NO_DOMAIN', `Domain not found: no domain with matching ${what}`, { origin: 'test' });
}

/**
 * The fake host: every object and state machine of libvirt's test driver,
 * in memory. One instance serves every connection to it; events go to each
 * connection's bus.
 */
export class TestHost implements DomainDriver, NetworkDriver, StorageDriver, InterfaceDriver {
  readonly domains = new Map<string, TestDomain>();
  readonly networks = new Map<string, TestNetwork>();
  readonly pools = new Map<string, TestPool>();
  readonly ifaces = new Map<string, TestInterface>();
  private readonly buses = new Set<EventBus>();
  private nextId = 1;

  constructor(
    public nodeInfo: NodeInfo,
    public cells: TestCell[],
  ) {}

  // ------------------------------------------------------------ events

  subscribe(bus: EventBus): () => void {
    this.buses.add(bus);
    return () => this.buses.delete(bus);
  }

  private emit(e: VirtEvent): void {
    for (const b of this.buses) b.emit(e);
  }

  private domEvent<T extends DomainEventType>(d: TestDomain, type: T, detail: DomainEventDetail<T>): void {
    this.emit(domainEvent(type, detail, { name: F.name(d.def), uuid: F.uuid(d.def), id: d.id }));
  }

  // ------------------------------------------------------------ domains

  private summary(d: TestDomain): DomainSummary {
    return {
      id: d.id,
      name: F.name(d.def),
      uuid: F.uuid(d.def),
      state: d.state,
      reason: d.reason,
      persistent: d.persistent,
      autostart: d.autostart,
      managedSave: !!d.managedSave,
    };
  }

  private get(uuid: string): TestDomain {
    const d = this.domains.get(uuid);
    if (!d) throw noDomain(uuid);
    return d;
  }

  private requireActive(d: TestDomain, what: string): void {
    if (d.id < 0) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${F.name(d.def)}' is not running (${what})`, { origin: 'test' });
  }

  private findByName(name: string): TestDomain | undefined {
    for (const d of this.domains.values()) if (F.name(d.def) === name) return d;
    return undefined;
  }

  async listDomains(): Promise<DomainSummary[]> {
    return [...this.domains.values()].map((d) => this.summary(d));
  }

  async lookupDomain(key: DomainKey): Promise<DomainSummary> {
    let d: TestDomain | undefined;
    if ('uuid' in key) d = this.domains.get(key.uuid);
    else if ('name' in key) d = this.findByName(key.name);
    else for (const x of this.domains.values()) if (x.id === key.id && x.id >= 0) d = x;
    if (!d) throw noDomain(key);
    return this.summary(d);
  }

  /** Adds or replaces a definition the way virDomainObjListAdd does: same name must mean same UUID. */
  private checkNameUuid(def: DomainDef): TestDomain | undefined {
    const byUuid = this.domains.get(F.uuid(def));
    const byName = this.findByName(F.name(def));
    if (byUuid && F.name(byUuid.def) !== F.name(def)) {
      throw new VirtError('OPERATION_FAILED', `domain '${F.name(byUuid.def)}' is already defined with uuid ${F.uuid(def)}`, { origin: 'test' });
    }
    if (byName && F.uuid(byName.def) !== F.uuid(def)) {
      throw new VirtError('OPERATION_FAILED', `domain '${F.name(def)}' already exists with uuid ${F.uuid(byName.def)}`, { origin: 'test' });
    }
    return byUuid;
  }

  async defineDomain(xml: string, opts: { validate?: boolean } = {}): Promise<DomainSummary> {
    const def = parseTestDomain(xml);
    if (opts.validate) requireKnownXml(def, `domain '${F.name(def)}'`, 'test');
    const existing = this.checkNameUuid(def);
    if (existing) {
      existing.def = def;
      existing.persistent = true;
      this.domEvent(existing, 'defined', 'updated');
      return this.summary(existing);
    }
    const d: TestDomain = { def, id: -1, state: 'shutoff', reason: 'unknown', persistent: true, autostart: false, startedAt: 0 };
    this.domains.set(F.uuid(def), d);
    this.domEvent(d, 'defined', 'added');
    return this.summary(d);
  }

  /** Adds a domain as a fixture does (state from the fixture, no events). */
  addFixtureDomain(def: DomainDef, opts: { state: DomainState; persistent: boolean; managedSave: boolean }): void {
    this.checkNameUuid(def);
    const d: TestDomain = { def, id: -1, state: 'shutoff', reason: 'unknown', persistent: opts.persistent, autostart: false, startedAt: 0 };
    if (opts.state !== 'shutoff') {
      d.id = this.nextId++;
      d.live = structuredClone(def);
      nameInterfaces(d.live);
      d.state = opts.state;
      d.reason = opts.state === 'paused' ? 'user' : 'unknown';
      d.startedAt = Date.now();
    }
    if (opts.managedSave) d.managedSave = { xml: formatTestDomain(def, { inactive: true, secure: true }), state: 'running' };
    this.domains.set(F.uuid(def), d);
  }

  async undefineDomain(uuid: string, opts: { managedSave?: boolean } = {}): Promise<void> {
    const d = this.get(uuid);
    if (!d.persistent) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: cannot undefine transient domain '${F.name(d.def)}'`, { origin: 'test' });
    if (d.managedSave && !opts.managedSave) {
      throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: Refusing to undefine domain '${F.name(d.def)}' while managed save image exists`, { origin: 'test' });
    }
    d.managedSave = undefined;
    d.autostart = false;
    this.domEvent(d, 'undefined', 'removed');
    if (d.id >= 0) d.persistent = false;
    else this.domains.delete(uuid);
  }

  /** Starts a domain; `live` is the definition it runs with (default: its persistent one). */
  private boot(d: TestDomain, paused: boolean, detail: 'booted' | 'restored', live?: DomainDef): void {
    d.id = this.nextId++;
    d.live = live ?? structuredClone(d.def);
    nameInterfaces(d.live);
    d.startedAt = Date.now();
    d.state = 'running';
    d.reason = detail;
    this.domEvent(d, 'started', detail);
    if (paused) {
      d.state = 'paused';
      d.reason = 'user';
      this.domEvent(d, 'suspended', 'paused');
    }
  }

  private stop(d: TestDomain, reason: 'shutdown' | 'destroyed' | 'saved' | 'crashed', detail: DomainEventDetail<'stopped'>): void {
    d.state = 'shutoff';
    d.reason = reason;
    this.domEvent(d, 'stopped', detail);
    d.id = -1;
    d.live = undefined;
    if (!d.persistent) this.domains.delete(F.uuid(d.def));
  }

  async createDomain(xml: string, opts: { paused?: boolean; validate?: boolean } = {}): Promise<DomainSummary> {
    const def = parseTestDomain(xml);
    if (opts.validate) requireKnownXml(def, `domain '${F.name(def)}'`, 'test');
    const existing = this.checkNameUuid(def);
    if (existing && existing.id >= 0) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${F.name(def)}' is already active`, { origin: 'test' });
    const d: TestDomain = existing ?? { def, id: -1, state: 'shutoff', reason: 'unknown', persistent: false, autostart: false, startedAt: 0 };
    if (!existing) this.domains.set(F.uuid(def), d);
    // The given XML is what runs; a persistent definition keeps its own for the next boot.
    this.boot(d, !!opts.paused, 'booted', def);
    return this.summary(d);
  }

  async startDomain(uuid: string, opts: { paused?: boolean; forceBoot?: boolean } = {}): Promise<void> {
    const d = this.get(uuid);
    if (d.id >= 0) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${F.name(d.def)}' is already active`, { origin: 'test' });
    if (d.managedSave && !opts.forceBoot) {
      const saved = d.managedSave;
      d.managedSave = undefined;
      this.boot(d, opts.paused ?? saved.state === 'paused', 'restored');
      return;
    }
    d.managedSave = undefined;
    this.boot(d, !!opts.paused, 'booted');
  }

  async shutdownDomain(uuid: string): Promise<void> {
    const d = this.get(uuid);
    this.requireActive(d, 'shutdown');
    this.emit({ kind: 'domain', type: 'shutdown', detail: 'finished', domain: { name: F.name(d.def), uuid, id: d.id }, timestamp: Date.now() });
    this.stop(d, 'shutdown', 'shutdown');
  }

  async destroyDomain(uuid: string): Promise<void> {
    const d = this.get(uuid);
    this.requireActive(d, 'destroy');
    this.stop(d, 'destroyed', 'destroyed');
  }

  async rebootDomain(uuid: string): Promise<void> {
    const d = this.get(uuid);
    this.requireActive(d, 'reboot');
    const action = F.onReboot(d.live ?? d.def);
    this.emit({ kind: 'domain-event', event: 'reboot', domain: { name: F.name(d.def), uuid, id: d.id }, timestamp: Date.now() });
    if (action === 'destroy') {
      this.stop(d, 'shutdown', 'shutdown');
      return;
    }
    if (action === 'preserve') return;
    d.state = 'running';
    d.reason = 'booted';
  }

  async resetDomain(uuid: string): Promise<void> {
    const d = this.get(uuid);
    this.requireActive(d, 'reset');
    this.emit({ kind: 'domain-event', event: 'reboot', domain: { name: F.name(d.def), uuid, id: d.id }, timestamp: Date.now() });
  }

  async suspendDomain(uuid: string): Promise<void> {
    const d = this.get(uuid);
    this.requireActive(d, 'suspend');
    if (d.state === 'paused') throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${F.name(d.def)}' is already paused`, { origin: 'test' });
    d.state = 'paused';
    d.reason = 'user';
    this.domEvent(d, 'suspended', 'paused');
  }

  async resumeDomain(uuid: string): Promise<void> {
    const d = this.get(uuid);
    this.requireActive(d, 'resume');
    if (d.state !== 'paused') throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${F.name(d.def)}' is not paused`, { origin: 'test' });
    d.state = 'running';
    d.reason = 'unpaused';
    this.domEvent(d, 'resumed', 'unpaused');
  }

  async saveDomain(uuid: string, file: string, opts: { xml?: string; startAs?: 'running' | 'paused' } = {}): Promise<void> {
    const d = this.get(uuid);
    this.requireActive(d, 'save');
    const def = opts.xml ? parseTestDomain(opts.xml) : (d.live ?? d.def);
    const state = opts.startAs ?? (d.state === 'paused' ? 'paused' : 'running');
    const body = JSON.stringify({ state, xml: formatTestDomain(def, { inactive: true, secure: true }) });
    try {
      await writeFile(file, SAVE_MAGIC + body, { mode: 0o600 });
    } catch (err) {
      throw new VirtError('SYSTEM_ERROR', `domain '${F.name(d.def)}': cannot write saved state to '${file}': ${(err as Error).message}`, { origin: 'test', cause: err });
    }
    this.stop(d, 'saved', 'saved');
  }

  async restoreDomain(file: string, opts: { xml?: string; startAs?: 'running' | 'paused' } = {}): Promise<DomainSummary> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new VirtError('SYSTEM_ERROR', `cannot read domain image '${file}': ${(err as Error).message}`, { origin: 'test', cause: err });
    }
    if (!text.startsWith(SAVE_MAGIC)) throw new VirtError('OPERATION_FAILED', `'${file}' is not a saved domain image (bad magic)`, { origin: 'test' });
    let saved: { state?: unknown; xml?: unknown };
    try {
      saved = JSON.parse(text.slice(SAVE_MAGIC.length)) as typeof saved;
    } catch {
      throw new VirtError('OPERATION_FAILED', `saved domain image '${file}' is corrupt`, { origin: 'test' });
    }
    if (typeof saved.xml !== 'string') throw new VirtError('OPERATION_FAILED', `saved domain image '${file}' is corrupt`, { origin: 'test' });
    const def = parseTestDomain(opts.xml ?? saved.xml, `domain XML in '${file}'`);
    const existing = this.checkNameUuid(def);
    if (existing && existing.id >= 0) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${F.name(def)}' is already active`, { origin: 'test' });
    const d: TestDomain = existing ?? { def, id: -1, state: 'shutoff', reason: 'unknown', persistent: false, autostart: false, startedAt: 0 };
    if (!existing) this.domains.set(F.uuid(def), d);
    this.boot(d, (opts.startAs ?? saved.state) === 'paused', 'restored', def);
    return this.summary(d);
  }

  async managedSaveDomain(uuid: string, opts: { startAs?: 'running' | 'paused' } = {}): Promise<void> {
    const d = this.get(uuid);
    this.requireActive(d, 'managedsave');
    if (!d.persistent) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: cannot do managed save for transient domain '${F.name(d.def)}'`, { origin: 'test' });
    d.managedSave = { xml: formatTestDomain(d.live ?? d.def, { inactive: true, secure: true }), state: opts.startAs ?? (d.state === 'paused' ? 'paused' : 'running') };
    this.stop(d, 'saved', 'saved');
  }

  async removeManagedSave(uuid: string): Promise<void> {
    this.get(uuid).managedSave = undefined;
  }

  async setAutostart(uuid: string, autostart: boolean): Promise<void> {
    const d = this.get(uuid);
    if (!d.persistent) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: cannot set autostart for transient domain '${F.name(d.def)}'`, { origin: 'test' });
    d.autostart = autostart;
  }

  async getXml(uuid: string, opts: { inactive?: boolean; secure?: boolean; migratable?: boolean } = {}): Promise<string> {
    const d = this.get(uuid);
    const def = opts.inactive || !d.live ? d.def : d.live;
    return formatTestDomain(def, { id: opts.inactive ? -1 : d.id, inactive: !!opts.inactive, secure: !!opts.secure, migratable: !!opts.migratable });
  }

  private cpuTimeNs(d: TestDomain): number {
    // libvirt's test driver reports wall time as CPU time; scale by vCPUs for something plausible.
    return d.id >= 0 ? (Date.now() - d.startedAt) * 1e6 * F.vcpus(d.live ?? d.def) + 1 : 0;
  }

  async getInfo(uuid: string): Promise<DomainInfo> {
    const d = this.get(uuid);
    const def = d.live ?? d.def;
    return {
      state: d.state,
      reason: d.reason,
      maxMemKiB: F.maxMemKiB(def),
      memoryKiB: F.currentMemKiB(def),
      vcpus: F.vcpus(def),
      cpuTimeNs: this.cpuTimeNs(d),
      persistent: d.persistent,
      autostart: d.autostart,
      managedSave: !!d.managedSave,
      osType: 'linux',
      securityModel: 'testSecurity',
      securityLabel: { label: 'libvirt-test', enforcing: true },
    };
  }

  async getState(uuid: string): Promise<{ state: DomainState; reason: string }> {
    const d = this.get(uuid);
    return { state: d.state, reason: d.reason };
  }

  async getStats(uuid: string): Promise<DomainStats> {
    const d = this.get(uuid);
    const def = d.live ?? d.def;
    const states: DomainState[] = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'];
    return {
      'state.state': states.indexOf(d.state),
      'state.reason': d.reason,
      'cpu.time': this.cpuTimeNs(d),
      'balloon.current': F.currentMemKiB(def),
      'balloon.maximum': F.maxMemKiB(def),
      'vcpu.current': F.vcpus(def),
      'vcpu.maximum': F.maxVcpus(def),
      ...(d.id >= 0 ? this.deviceStats(def) : {}),
    };
  }

  /**
   * Block and interface counters of a running fake guest: zero traffic, and
   * libvirt's test driver's 1 TiB disks. They let tools exercise domblkstat,
   * domifstat and domblkinfo against test:///.
   */
  private deviceStats(def: DomainDef): DomainStats {
    const s: DomainStats = {};
    const disks = def.devices.disks.filter((x) => x.device === 'disk');
    s['block.count'] = disks.length;
    disks.forEach((x, i) => {
      s[`block.${i}.name`] = x.dst;
      if (x.src.path) s[`block.${i}.path`] = x.src.path;
      for (const k of ['rd.reqs', 'rd.bytes', 'wr.reqs', 'wr.bytes', 'fl.reqs']) s[`block.${i}.${k}`] = 0;
      for (const k of ['capacity', 'allocation', 'physical']) s[`block.${i}.${k}`] = 2 ** 40;
    });
    const nics = def.devices.interfaces.filter((n) => n.ifname);
    s['net.count'] = nics.length;
    nics.forEach((n, i) => {
      s[`net.${i}.name`] = n.ifname!;
      for (const k of ['rx.bytes', 'rx.pkts', 'rx.errs', 'rx.drop', 'tx.bytes', 'tx.pkts', 'tx.errs', 'tx.drop']) s[`net.${i}.${k}`] = 0;
    });
    return s;
  }

  async setMemory(uuid: string, kib: number, opts: { live?: boolean; config?: boolean; maximum?: boolean } = {}): Promise<void> {
    const d = this.get(uuid);
    const live = opts.live || (!opts.config && d.id >= 0);
    const targets = [...(live && d.live ? [d.live] : []), ...(opts.config || d.id < 0 ? [d.def] : [])];
    if (live && d.id < 0) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${F.name(d.def)}' is not running`, { origin: 'test' });
    for (const def of targets) {
      if (opts.maximum) {
        if (live) throw new VirtError('OPERATION_INVALID', `cannot resize the maximum memory on an active domain '${F.name(d.def)}'`, { origin: 'test' });
        F.setMaxMemKiB(def, kib);
        if (F.currentMemKiB(def) > kib) F.setCurrentMemKiB(def, kib);
      } else {
        if (kib > F.maxMemKiB(def)) throw new VirtError('INVALID_ARG', `domain '${F.name(d.def)}': cannot set memory higher than max memory (${F.maxMemKiB(def)} KiB)`, { origin: 'test' });
        F.setCurrentMemKiB(def, kib);
      }
    }
  }

  async setVcpus(uuid: string, count: number, opts: { live?: boolean; config?: boolean } = {}): Promise<void> {
    const d = this.get(uuid);
    const live = opts.live || (!opts.config && d.id >= 0);
    if (live && d.id < 0) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${F.name(d.def)}' is not running`, { origin: 'test' });
    const targets = [...(live && d.live ? [d.live] : []), ...(opts.config || d.id < 0 ? [d.def] : [])];
    for (const def of targets) {
      if (count > F.maxVcpus(def)) throw new VirtError('INVALID_ARG', `domain '${F.name(d.def)}': requested vcpus (${count}) is greater than max allowable vcpus (${F.maxVcpus(def)})`, { origin: 'test' });
      F.setVcpus(def, count);
    }
  }

  // ------------------------------------------------------------ networks

  private netSummary(n: TestNetwork): NetworkSummary {
    return { name: n.def.name, uuid: n.def.uuid, active: n.active, persistent: n.persistent, autostart: n.autostart, ...(n.def.bridge?.name ? { bridge: n.def.bridge.name } : {}) };
  }

  private net(uuid: string): TestNetwork {
    const n = this.networks.get(uuid);
    if (!n) throw new VirtError('NO_NETWORK', `Network not found: no network with matching uuid '${uuid}'`, { origin: 'test' });
    return n;
  }

  private checkNetNameUuid(def: NetworkDef): TestNetwork | undefined {
    const byUuid = this.networks.get(def.uuid);
    const byName = [...this.networks.values()].find((n) => n.def.name === def.name);
    if (byUuid && byUuid.def.name !== def.name) throw new VirtError('OPERATION_FAILED', `network '${byUuid.def.name}' is already defined with uuid ${def.uuid}`, { origin: 'test' });
    if (byName && byName.def.uuid !== def.uuid) throw new VirtError('OPERATION_FAILED', `network '${def.name}' already exists with uuid ${byName.def.uuid}`, { origin: 'test' });
    return byUuid;
  }

  async listNetworks(): Promise<NetworkSummary[]> {
    return [...this.networks.values()].map((n) => this.netSummary(n));
  }

  async lookupNetwork(key: NetworkKey): Promise<NetworkSummary> {
    const n = 'uuid' in key ? this.networks.get(key.uuid) : [...this.networks.values()].find((x) => x.def.name === key.name);
    if (!n) throw new VirtError('NO_NETWORK', `Network not found: no network with matching ${'uuid' in key ? `uuid '${key.uuid}'` : `name '${key.name}'`}`, { origin: 'test' });
    return this.netSummary(n);
  }

  addNetwork(def: NetworkDef, active: boolean, persistent: boolean): TestNetwork {
    const existing = this.checkNetNameUuid(def);
    if (existing) {
      existing.def = def;
      existing.persistent ||= persistent;
      return existing;
    }
    const n: TestNetwork = { def, active, persistent, autostart: false };
    this.networks.set(def.uuid, n);
    return n;
  }

  async defineNetwork(xml: string, opts: { validate?: boolean } = {}): Promise<NetworkSummary> {
    const def = parseNetworkXml(xml);
    if (opts.validate) requireKnownXml(def, `network '${def.name}'`, 'test');
    const n = this.addNetwork(def, false, true);
    this.emit(networkEvent('defined', n.def));
    return this.netSummary(n);
  }

  async createNetwork(xml: string): Promise<NetworkSummary> {
    const def = parseNetworkXml(xml);
    const existing = this.checkNetNameUuid(def);
    if (existing?.active) throw new VirtError('OPERATION_INVALID', `network '${def.name}' is already active`, { origin: 'test' });
    const n = this.addNetwork(def, true, false);
    n.active = true;
    this.emit(networkEvent('started', n.def));
    return this.netSummary(n);
  }

  async undefineNetwork(uuid: string): Promise<void> {
    const n = this.net(uuid);
    if (!n.persistent) throw new VirtError('OPERATION_INVALID', `network '${n.def.name}' is not persistent`, { origin: 'test' });
    this.emit(networkEvent('undefined', n.def));
    n.autostart = false;
    if (n.active) n.persistent = false;
    else this.networks.delete(uuid);
  }

  async startNetwork(uuid: string): Promise<void> {
    const n = this.net(uuid);
    if (n.active) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: network '${n.def.name}' is already active`, { origin: 'test' });
    n.active = true;
    this.emit(networkEvent('started', n.def));
  }

  async destroyNetwork(uuid: string): Promise<void> {
    const n = this.net(uuid);
    if (!n.active) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: network '${n.def.name}' is not active`, { origin: 'test' });
    n.active = false;
    this.emit(networkEvent('stopped', n.def));
    if (!n.persistent) this.networks.delete(uuid);
  }

  async setNetworkAutostart(uuid: string, autostart: boolean): Promise<void> {
    const n = this.net(uuid);
    if (!n.persistent) throw new VirtError('OPERATION_INVALID', `cannot set autostart for transient network '${n.def.name}'`, { origin: 'test' });
    n.autostart = autostart;
  }

  async getNetworkXml(uuid: string, opts: { inactive?: boolean } = {}): Promise<string> {
    return formatNetworkXml(this.net(uuid).def, { inactive: !!opts.inactive });
  }

  async getDhcpLeases(uuid: string, mac?: string): Promise<DhcpLease[]> {
    const n = this.net(uuid);
    const leases: DhcpLease[] = [];
    // As libvirt's test driver: every static DHCP host of an active network holds a lease.
    if (!n.active) return leases;
    for (const ip of n.def.ips ?? []) {
      for (const h of ip.hosts) {
        if (!h.mac || !h.ip || (mac && h.mac.toLowerCase() !== mac.toLowerCase())) continue;
        leases.push({
          expiryTime: Math.floor(Date.now() / 1000) + 3600,
          mac: h.mac,
          ipaddr: h.ip,
          prefix: ip.prefix ?? 24,
          type: ip.family === 'ipv6' ? 'ipv6' : 'ipv4',
          ...(h.name ? { hostname: h.name } : {}),
          iface: n.def.bridge?.name ?? '',
        });
      }
    }
    return leases;
  }

  // ------------------------------------------------------------ storage

  private poolSummary(p: TestPool): PoolSummary {
    return { name: p.def.name, uuid: p.def.uuid, type: p.def.type, state: p.state, persistent: p.persistent, autostart: p.autostart };
  }

  private pool(uuid: string): TestPool {
    const p = this.pools.get(uuid);
    if (!p) throw new VirtError('NO_STORAGE_POOL', `Storage pool not found: no storage pool with matching uuid '${uuid}'`, { origin: 'test' });
    return p;
  }

  private poolByName(name: string): TestPool {
    const p = [...this.pools.values()].find((x) => x.def.name === name);
    if (!p) throw new VirtError('NO_STORAGE_POOL', `Storage pool not found: no storage pool with matching name '${name}'`, { origin: 'test' });
    return p;
  }

  private requirePoolActive(p: TestPool): void {
    if (p.state !== 'running') throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: storage pool '${p.def.name}' is not active`, { origin: 'test' });
  }

  private refreshPoolSizes(p: TestPool): void {
    let alloc = 0n;
    for (const v of p.volumes.values()) alloc += v.allocation ?? 0n;
    p.def.capacity = POOL_CAPACITY;
    p.def.allocation = alloc;
    p.def.available = POOL_CAPACITY - alloc;
  }

  addPool(def: StoragePoolDef, active: boolean, persistent: boolean): TestPool {
    const byUuid = this.pools.get(def.uuid);
    const byName = [...this.pools.values()].find((x) => x.def.name === def.name);
    if (byUuid && byUuid.def.name !== def.name) throw new VirtError('OPERATION_FAILED', `pool '${byUuid.def.name}' is already defined with uuid ${def.uuid}`, { origin: 'test' });
    if (byName && byName.def.uuid !== def.uuid) throw new VirtError('OPERATION_FAILED', `pool '${def.name}' already exists with uuid ${byName.def.uuid}`, { origin: 'test' });
    if (byUuid) {
      if (byUuid.state === 'running' && active) throw new VirtError('OPERATION_INVALID', `storage pool '${def.name}' is already active`, { origin: 'test' });
      byUuid.def = def;
      byUuid.persistent ||= persistent;
      this.refreshPoolSizes(byUuid);
      return byUuid;
    }
    const p: TestPool = { def, state: active ? 'running' : 'inactive', persistent, autostart: false, volumes: new Map() };
    this.refreshPoolSizes(p);
    this.pools.set(def.uuid, p);
    return p;
  }

  async listPools(): Promise<PoolSummary[]> {
    return [...this.pools.values()].map((p) => this.poolSummary(p));
  }

  async lookupPool(key: PoolKey): Promise<PoolSummary> {
    if ('uuid' in key) return this.poolSummary(this.pool(key.uuid));
    if ('name' in key) return this.poolSummary(this.poolByName(key.name));
    for (const p of this.pools.values()) for (const v of p.volumes.values()) if (v.key === key.volumeKey) return this.poolSummary(p);
    throw new VirtError('NO_STORAGE_POOL', `Storage pool not found: no pool holds volume key '${key.volumeKey}'`, { origin: 'test' });
  }

  async definePool(xml: string, opts: { validate?: boolean } = {}): Promise<PoolSummary> {
    const def = parseStoragePoolXml(xml);
    if (opts.validate) requireKnownXml(def, `storage pool '${def.name}'`, 'test');
    const p = this.addPool(def, false, true);
    this.emit(poolEvent('defined', p.def));
    return this.poolSummary(p);
  }

  async createPool(xml: string): Promise<PoolSummary> {
    const p = this.addPool(parseStoragePoolXml(xml), true, false);
    p.state = 'running';
    this.emit(poolEvent('started', p.def));
    return this.poolSummary(p);
  }

  async undefinePool(uuid: string): Promise<void> {
    const p = this.pool(uuid);
    if (p.state === 'running') throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: storage pool '${p.def.name}' is still active`, { origin: 'test' });
    this.emit(poolEvent('undefined', p.def));
    this.pools.delete(uuid);
  }

  async buildPool(uuid: string, opts: { overwrite?: boolean; noOverwrite?: boolean } = {}): Promise<void> {
    const p = this.pool(uuid);
    if (opts.overwrite && opts.noOverwrite) throw new VirtError('INVALID_ARG', 'overwrite and no-overwrite are mutually exclusive');
    if (p.state === 'running') throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: storage pool '${p.def.name}' is already active`, { origin: 'test' });
    this.emit(poolEvent('created', p.def));
  }

  async startPool(uuid: string): Promise<void> {
    const p = this.pool(uuid);
    if (p.state === 'running') throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: storage pool '${p.def.name}' is already active`, { origin: 'test' });
    p.state = 'running';
    this.refreshPoolSizes(p);
    this.emit(poolEvent('started', p.def));
  }

  async destroyPool(uuid: string): Promise<void> {
    const p = this.pool(uuid);
    this.requirePoolActive(p);
    p.state = 'inactive';
    this.emit(poolEvent('stopped', p.def));
    if (!p.persistent) this.pools.delete(uuid);
  }

  async deletePool(uuid: string): Promise<void> {
    const p = this.pool(uuid);
    if (p.state === 'running') throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: storage pool '${p.def.name}' is still active`, { origin: 'test' });
    p.volumes.clear();
    this.emit(poolEvent('deleted', p.def));
  }

  async refreshPool(uuid: string): Promise<void> {
    const p = this.pool(uuid);
    this.requirePoolActive(p);
    this.refreshPoolSizes(p);
  }

  async setPoolAutostart(uuid: string, autostart: boolean): Promise<void> {
    const p = this.pool(uuid);
    if (!p.persistent) throw new VirtError('OPERATION_INVALID', `cannot set autostart for transient pool '${p.def.name}'`, { origin: 'test' });
    p.autostart = autostart;
  }

  async getPoolInfo(uuid: string): Promise<PoolInfo> {
    const p = this.pool(uuid);
    return { state: p.state, capacity: Number(p.def.capacity), allocation: Number(p.def.allocation), available: Number(p.def.available) };
  }

  async getPoolXml(uuid: string): Promise<string> {
    return formatStoragePoolXml(this.pool(uuid).def);
  }

  private volSummary(p: TestPool, v: StorageVolDef): VolumeSummary {
    return { pool: p.def.name, name: v.name, key: v.key ?? v.target.path ?? v.name, path: v.target.path ?? '', type: v.type ?? 'file' };
  }

  private findVolume(key: VolumeKey): { p: TestPool; v: StorageVolDef } {
    if ('pool' in key) {
      const p = this.poolByName(key.pool);
      this.requirePoolActive(p);
      const v = p.volumes.get(key.name);
      if (!v) throw new VirtError('NO_STORAGE_VOL', `Storage volume not found: no storage vol with matching name '${key.name}'`, { origin: 'test' });
      return { p, v };
    }
    for (const p of this.pools.values()) {
      if (p.state !== 'running') continue;
      for (const v of p.volumes.values()) {
        if ('key' in key ? v.key === key.key : v.target.path === key.path) return { p, v };
      }
    }
    throw new VirtError('NO_STORAGE_VOL', `Storage volume not found: no storage vol with matching ${'key' in key ? `key '${key.key}'` : `path '${key.path}'`}`, { origin: 'test' });
  }

  /** Adds a volume to a pool as libvirt's test driver does: path and key under the pool's target path. */
  addVolume(p: TestPool, v: StorageVolDef): StorageVolDef {
    if (!isSafeObjectName(v.name)) throw new VirtError('INVALID_ARG', `volume name '${v.name}' cannot contain '/' or be '.' or '..'`, { origin: 'test' });
    if (p.volumes.has(v.name)) throw new VirtError('STORAGE_VOL_EXIST', `storage vol '${v.name}' already exists in pool '${p.def.name}'`, { origin: 'test' });
    const path = `${p.def.target?.path ?? ''}/${v.name}`;
    v.target.path = path;
    v.key = path;
    v.allocation ??= 0n;
    if ((v.allocation ?? 0n) > p.def.available) {
      throw new VirtError('OPERATION_FAILED', `Not enough free space in pool '${p.def.name}' for volume '${v.name}'`, { origin: 'test' });
    }
    p.volumes.set(v.name, v);
    this.refreshPoolSizes(p);
    return v;
  }

  async listVolumes(poolUuid: string): Promise<VolumeSummary[]> {
    const p = this.pool(poolUuid);
    this.requirePoolActive(p);
    return [...p.volumes.values()].map((v) => this.volSummary(p, v));
  }

  async lookupVolume(key: VolumeKey): Promise<VolumeSummary> {
    const { p, v } = this.findVolume(key);
    return this.volSummary(p, v);
  }

  async createVolume(poolUuid: string, xml: string): Promise<VolumeSummary> {
    const p = this.pool(poolUuid);
    this.requirePoolActive(p);
    const v = this.addVolume(p, parseStorageVolXml(xml, p.def));
    return this.volSummary(p, v);
  }

  async createVolumeFrom(poolUuid: string, xml: string, source: VolumeKey): Promise<VolumeSummary> {
    const p = this.pool(poolUuid);
    this.requirePoolActive(p);
    const src = this.findVolume(source);
    const v = parseStorageVolXml(xml, p.def);
    v.allocation = v.allocation ?? src.v.allocation;
    if (!v.capacity) v.capacity = src.v.capacity;
    this.addVolume(p, v);
    return this.volSummary(p, v);
  }

  async deleteVolume(key: VolumeKey): Promise<void> {
    const { p, v } = this.findVolume(key);
    p.volumes.delete(v.name);
    this.refreshPoolSizes(p);
  }

  async resizeVolume(key: VolumeKey, capacity: number, opts: { allocate?: boolean; delta?: boolean; shrink?: boolean } = {}): Promise<void> {
    const { p, v } = this.findVolume(key);
    const target = BigInt(Math.trunc(opts.delta ? Number(v.capacity) + capacity : capacity));
    if (target < 0n) throw new VirtError('INVALID_ARG', `can't shrink capacity of volume '${v.name}' below 0`, { origin: 'test' });
    if (target < v.capacity && !opts.shrink) {
      throw new VirtError('INVALID_ARG', `can't shrink capacity of volume '${v.name}' below current capacity unless shrink flag explicitly specified`, { origin: 'test' });
    }
    if (target - (v.allocation ?? 0n) > p.def.available && opts.allocate) {
      throw new VirtError('OPERATION_FAILED', `Not enough space left in storage pool '${p.def.name}'`, { origin: 'test' });
    }
    v.capacity = target;
    if (opts.allocate) v.allocation = target;
    this.refreshPoolSizes(p);
  }

  async wipeVolume(key: VolumeKey): Promise<void> {
    this.findVolume(key);
  }

  async getVolumeInfo(key: VolumeKey): Promise<VolumeInfo> {
    const { v } = this.findVolume(key);
    return { type: v.type ?? 'file', capacity: Number(v.capacity), allocation: Number(v.allocation ?? 0n) };
  }

  async getVolumeXml(key: VolumeKey): Promise<string> {
    const { p, v } = this.findVolume(key);
    return formatStorageVolXml(v, p.def);
  }

  // ------------------------------------------------------------ interfaces

  private ifaceSummary(i: TestInterface): InterfaceSummary {
    return { name: i.def.name, mac: i.def.mac ?? '', active: i.active };
  }

  addInterface(def: InterfaceDef, active: boolean): void {
    this.ifaces.set(def.name, { def, active });
  }

  async listInterfaces(): Promise<InterfaceSummary[]> {
    return [...this.ifaces.values()].map((i) => this.ifaceSummary(i));
  }

  async lookupInterface(key: InterfaceKey): Promise<InterfaceSummary> {
    const i = 'name' in key ? this.ifaces.get(key.name) : [...this.ifaces.values()].find((x) => x.def.mac?.toLowerCase() === key.mac.toLowerCase());
    if (!i) throw new VirtError('NO_INTERFACE', `Interface not found: no interface with matching ${'name' in key ? `name '${key.name}'` : `mac '${key.mac}'`}`, { origin: 'test' });
    return this.ifaceSummary(i);
  }

  async getInterfaceXml(name: string): Promise<string> {
    const i = this.ifaces.get(name);
    if (!i) throw new VirtError('NO_INTERFACE', `Interface not found: no interface with matching name '${name}'`, { origin: 'test' });
    return formatInterfaceXml(i.def);
  }

  async defineInterface(xml: string): Promise<InterfaceSummary> {
    const def = parseInterfaceXml(xml);
    const existing = this.ifaces.get(def.name);
    this.ifaces.set(def.name, { def, active: existing?.active ?? false });
    return this.ifaceSummary(this.ifaces.get(def.name)!);
  }

  async undefineInterface(name: string): Promise<void> {
    const i = this.ifaces.get(name);
    if (!i) throw new VirtError('NO_INTERFACE', `Interface not found: no interface with matching name '${name}'`, { origin: 'test' });
    if (i.active) throw new VirtError('OPERATION_INVALID', `interface '${name}' is active`, { origin: 'test' });
    this.ifaces.delete(name);
  }

  async startInterface(name: string): Promise<void> {
    const i = this.ifaces.get(name);
    if (!i) throw new VirtError('NO_INTERFACE', `Interface not found: no interface with matching name '${name}'`, { origin: 'test' });
    if (i.active) throw new VirtError('OPERATION_INVALID', `interface '${name}' is already active`, { origin: 'test' });
    i.active = true;
  }

  async destroyInterface(name: string): Promise<void> {
    const i = this.ifaces.get(name);
    if (!i) throw new VirtError('NO_INTERFACE', `Interface not found: no interface with matching name '${name}'`, { origin: 'test' });
    if (!i.active) throw new VirtError('OPERATION_INVALID', `interface '${name}' is not active`, { origin: 'test' });
    i.active = false;
  }

  /** Generates a UUID no domain, network or pool uses. */
  freshUuid(): string {
    for (;;) {
      const u = generateUuid();
      if (!this.domains.has(u) && !this.networks.has(u) && !this.pools.has(u)) return u;
    }
  }
}
