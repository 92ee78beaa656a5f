import { isAbsolute } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { configuredDefaultUri, readVirtkitConfig } from './config.js';
import type {
  Capability,
  DeviceChangeOptions,
  DhcpLease,
  DomainDefineOptions,
  DomainDriver,
  DomainInfo,
  DomainJobInfo,
  DomainKey,
  DomainMigrateOptions,
  DomainSaveOptions,
  DomainShutdownOptions,
  DomainStartOptions,
  DomainState,
  DomainStats,
  DomainSummary,
  DomainUndefineOptions,
  DomainXmlOptions,
  HypervisorDriver,
  HypervisorDriverFactory,
  InterfaceDriver,
  InterfaceSummary,
  JobContext,
  NetworkDriver,
  NetworkSummary,
  NetworkUpdateCommand,
  NetworkUpdateSection,
  NodeInfo,
  PoolBuildOptions,
  PoolInfo,
  PoolSummary,
  ShutdownMode,
  StorageDriver,
  VersionInfo,
  VolumeCreateOptions,
  VolumeInfo,
  VolumeKey,
  VolumeResizeOptions,
  VolumeSummary,
  VolumeTransferOptions,
  WipeAlgorithm,
} from './driver.js';
import { WIPE_ALGORITHMS } from './driver.js';
import { VirtError } from './errors.js';
import { EventBus, type VirtEvent, type VirtEventKind, type VirtEventListener } from './events.js';
import { JobLock, DEFAULT_JOB_WAIT_MS } from './locks.js';
import { PluginLoader } from './loader.js';
import { stateDirsFor } from './paths.js';
import { migrationFlagsOf, runMigration } from './migration.js';
import { isRemoteUri, parseUri, type VirtUri } from './uri.js';
import { DEFAULT_XML_LIMITS } from './xml/parse.js';
import { interfaceAddressesFromLeases, unsupportedAddressSource, type DomainInterfaceAddresses, type InterfaceAddressSource } from './domain-addresses.js';
import { validateLibvirtXml, type LibvirtSchemaKind } from './xml/relaxng/index.js';
import { isUuid, parseUuid } from './xml/values.js';

/** Hooks other core modules (the local network and storage drivers) register to serve local URIs. */
export interface LocalSubdriverFactories {
  network?: (uri: VirtUri, ctx: { events: EventBus; plugins: PluginLoader }) => Promise<NetworkDriver>;
  storage?: (uri: VirtUri, ctx: { events: EventBus; plugins: PluginLoader }) => Promise<StorageDriver>;
  interfaces?: (uri: VirtUri) => Promise<InterfaceDriver>;
}

const localSubdrivers: LocalSubdriverFactories = {};

/** Whether a local URI has state folders (stateDirsFor accepts it). */
function hasLocalState(uri: VirtUri): boolean {
  try {
    stateDirsFor(uri);
    return true;
  } catch {
    return false;
  }
}

/** Registers the core-side drivers that serve networks/storage/interfaces of local URIs. */
export function registerLocalSubdrivers(f: LocalSubdriverFactories): void {
  Object.assign(localSubdrivers, f);
}

export interface ConnectOptions {
  readonly?: boolean;
  /** Plugin loader to use (default: one for this process). */
  loader?: PluginLoader;
  /** Extra folders whose node_modules chains hold plugins (the CLI passes its own). */
  pluginRoots?: string[];
  /** Asks the user for a password or passphrase. */
  prompt?: (question: string, opts: { secret: boolean }) => Promise<string>;
  /** How long a modifying job waits for another one on the same object (ms). */
  jobWaitMs?: number;
}

// One job lock per process: two connections of one process to one object serialise too.
const processJobs = new JobLock();

function need(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new VirtError('INVALID_ARG', msg);
}

function checkName(kind: string, name: unknown): string {
  need(typeof name === 'string' && name.length > 0, `${kind} name must be a non-empty string`);
  need(name.length <= 1024 && !name.includes('\0'), `${kind} name '${name.slice(0, 64)}' is too long or holds a NUL`);
  return name;
}

function checkUuid(kind: string, uuid: unknown): string {
  need(typeof uuid === 'string' && isUuid(uuid), `${kind} UUID '${String(uuid)}' is not a valid UUID`);
  return parseUuid(uuid);
}

function checkXml(what: string, xml: unknown): string {
  need(typeof xml === 'string' && xml.trim() !== '', `${what} XML must be a non-empty string`);
  need(xml.length <= DEFAULT_XML_LIMITS.maxBytes, `${what} XML is larger than ${DEFAULT_XML_LIMITS.maxBytes} bytes`);
  return xml;
}

/**
 * `validate`: libvirt's RelaxNG schema check, here for every driver. When the
 * schemas are found the driver's own model check is not needed (validate is
 * cleared for it); when they are not, the driver's check is the fallback.
 */
function schemaValidated<O extends { validate?: boolean }>(kind: LibvirtSchemaKind, xml: string, opts: O): O {
  if (!opts.validate || !validateLibvirtXml(kind, xml)) return opts;
  return { ...opts, validate: false };
}

function checkCount(what: string, n: unknown, max = Number.MAX_SAFE_INTEGER): number {
  need(typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max, `${what} must be an integer between 0 and ${max}`);
  return n;
}

function checkPath(what: string, p: unknown): string {
  need(typeof p === 'string' && p.length > 0 && !p.includes('\0'), `${what} must be a file path`);
  need(isAbsolute(p), `${what} '${p}' must be an absolute path`);
  return p;
}

/**
 * A connection to one hypervisor driver (plus the network, storage and
 * host-interface parts for its URI). Every call goes through one wrapper
 * that checks the connection is open, arguments, read-only access and the
 * driver's capability, takes the object's job lock for changes, and only
 * then calls the driver.
 */
export class Connection {
  readonly events: EventBus;
  private closed = false;
  /** @internal How this connection was opened: a migration opens its destination the same way. */
  openedWith?: { loader: PluginLoader; prompt?: ConnectOptions['prompt'] };

  private constructor(
    readonly uri: VirtUri,
    readonly readonly: boolean,
    readonly driver: HypervisorDriver,
    events: EventBus,
    private readonly networkDriver: NetworkDriver | undefined,
    private readonly storageDriver: StorageDriver | undefined,
    private readonly interfaceDriver: InterfaceDriver | undefined,
    private readonly jobWaitMs: number,
  ) {
    this.events = events;
  }

  /** Opens a URI (or the default one), finding and importing only the driver it needs. */
  static async open(uriText?: string, opts: ConnectOptions = {}): Promise<Connection> {
    const config = (() => {
      try {
        return readVirtkitConfig();
      } catch {
        return { plugins: [] };
      }
    })();
    const loader = opts.loader ?? PluginLoader.forProcess(opts.pluginRoots ?? [], config);
    const explicit = uriText ?? configuredDefaultUri(process.env, config);
    if (explicit) return Connection.openWith(explicit, loader, opts);
    return Connection.openDefault(loader, opts);
  }

  /** No URI anywhere: qemu:///system for root, qemu:///session otherwise, else the first installed driver that opens. */
  private static async openDefault(loader: PluginLoader, opts: ConnectOptions): Promise<Connection> {
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    const path = root ? 'system' : 'session';
    const candidates: string[] = [];
    if (loader.findHypervisor('qemu')) candidates.push(`qemu:///${path}`);
    for (const m of loader.list()) {
      if (m.kind !== 'hypervisor') continue;
      for (const s of m.schemes ?? []) {
        const u = s === 'test' ? 'test:///default' : `${s}:///${path}`;
        if (!candidates.includes(u)) candidates.push(u);
      }
    }
    let last: unknown;
    for (const u of candidates) {
      try {
        return await Connection.openWith(u, loader, opts);
      } catch (err) {
        last = err;
      }
    }
    if (last) throw last;
    throw new VirtError('NO_CONNECT', 'no connection driver is installed (install @virtkit/driver-qemu or another driver)');
  }

  private static async openWith(uriText: string, loader: PluginLoader, opts: ConnectOptions): Promise<Connection> {
    const uri = parseUri(uriText);
    const remote = isRemoteUri(uri);
    const manifest = remote ? loader.findRemote() : loader.findHypervisor(uri.driver);
    if (!manifest) {
      const why = loader.problems.length ? ` (plugin problems: ${loader.problems.map((p) => `${p.where}: ${p.cause}`).join('; ')})` : '';
      throw new VirtError(
        'NO_CONNECT',
        remote
          ? `no remote driver is installed to open '${uriText}' (install @virtkit/remote)${why}`
          : `no connection driver available for '${uriText}'${why}`,
      );
    }
    const factory = await loader.loadDefault<HypervisorDriverFactory>(manifest);
    if (typeof factory !== 'function') {
      throw new VirtError('NO_CONNECT', `plugin '${manifest.name}' does not export a driver factory`, { origin: 'loader' });
    }
    const events = new EventBus();
    const readonly = !!opts.readonly;
    const lost = new Set<(reason: Error) => void>();
    const driver = await factory({ uri, readonly, events, prompt: opts.prompt, plugins: loader, connectionLost: (r) => lost.forEach((l) => l(r)) });
    try {
      const ctx = { events, plugins: loader };
      // Host networks, pools and interfaces belong to URIs with state folders (…:///system, /session, /embed).
      const local = !remote && hasLocalState(uri);
      const networks = driver.networks ?? (local && localSubdrivers.network ? await localSubdrivers.network(uri, ctx) : undefined);
      const storage = driver.storage ?? (local && localSubdrivers.storage ? await localSubdrivers.storage(uri, ctx) : undefined);
      const ifaces = driver.interfaces ?? (local && localSubdrivers.interfaces ? await localSubdrivers.interfaces(uri) : undefined);
      const conn = new Connection(uri, readonly, driver, events, networks, storage, ifaces, opts.jobWaitMs ?? DEFAULT_JOB_WAIT_MS);
      conn.openedWith = { loader, ...(opts.prompt ? { prompt: opts.prompt } : {}) };
      lost.add((r) => conn.markLost(r));
      return conn;
    } catch (err) {
      await driver.close().catch(() => {});
      throw err;
    }
  }

  // ------------------------------------------------------------ the wrapper

  /** Whether the driver (or the connection's network/storage part) has a capability. */
  supports(cap: Capability): boolean {
    if (this.driver.capabilities.has(cap)) return true;
    // The network/storage parts core attaches answer by what they implement.
    const n = this.networkDriver;
    const st = this.storageDriver;
    switch (cap) {
      case 'network':
        return !!n;
      case 'network.update':
        return typeof n?.updateNetwork === 'function';
      case 'network.dhcp-leases':
        return typeof n?.getDhcpLeases === 'function';
      case 'storage':
        return !!st;
      case 'storage.upload':
        return typeof st?.uploadVolume === 'function';
      case 'storage.download':
        return typeof st?.downloadVolume === 'function';
      case 'storage.wipe':
        return typeof st?.wipeVolume === 'function';
      case 'storage.resize':
        return typeof st?.resizeVolume === 'function';
      case 'interface':
        return !!this.interfaceDriver;
      default:
        return false;
    }
  }

  /** @internal Runs a driver call with the checks every call gets. */
  async run<T>(what: string, o: { cap?: Capability; modify?: boolean; lock?: string }, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new VirtError('INVALID_CONN', `${what}: the connection to ${this.uri.raw} is closed`);
    if (o.modify && this.readonly) throw new VirtError('OPERATION_DENIED', `read only access prevents ${what}`);
    if (o.cap && !this.supports(o.cap)) {
      throw new VirtError('NO_SUPPORT', `${what}: this function is not supported by the ${this.driver.name} driver (needs '${o.cap}')`, { origin: this.driver.name });
    }
    if (o.modify && o.lock) return processJobs.run(`${this.driver.uri}|${o.lock}`, what, fn, this.jobWaitMs);
    return fn();
  }

  /** @internal */
  get domainsDriver(): DomainDriver {
    const d = this.driver.domains;
    if (!d) throw new VirtError('NO_SUPPORT', `the ${this.driver.name} driver manages no domains`, { origin: this.driver.name });
    return d;
  }

  /** @internal */
  get networks(): NetworkDriver {
    if (!this.networkDriver) throw new VirtError('NO_SUPPORT', `no network driver for ${this.uri.raw}`, { origin: this.driver.name });
    return this.networkDriver;
  }

  /** @internal */
  get storage(): StorageDriver {
    if (!this.storageDriver) throw new VirtError('NO_SUPPORT', `no storage driver for ${this.uri.raw}`, { origin: this.driver.name });
    return this.storageDriver;
  }

  /** @internal */
  get interfaces(): InterfaceDriver {
    if (!this.interfaceDriver) throw new VirtError('NO_SUPPORT', `no host interface driver for ${this.uri.raw}`, { origin: this.driver.name });
    return this.interfaceDriver;
  }

  on<K extends VirtEventKind>(kind: K | '*', listener: VirtEventListener<Extract<VirtEvent, { kind: K }>>): () => void {
    return this.events.on(kind, listener);
  }

  isAlive(): boolean {
    return !this.closed;
  }

  private lostListeners = new Set<(reason: Error) => void>();

  /** Called once if the driver loses its link (a remote daemon went away); the connection is then closed. */
  onLost(listener: (reason: Error) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** @internal */
  markLost(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of [...this.lostListeners]) l(reason);
    void this.driver.close().catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.driver.close();
  }

  // ------------------------------------------------------------ host

  getUri(): string {
    return this.driver.uri;
  }
  getHostname(): Promise<string> {
    return this.run('virConnectGetHostname', {}, () => this.driver.getHostname());
  }
  getVersion(): Promise<VersionInfo> {
    return this.run('virConnectGetVersion', {}, () => this.driver.getVersion());
  }
  getCapabilities(): Promise<string> {
    return this.run('virConnectGetCapabilities', {}, () => this.driver.getCapabilities());
  }
  getNodeInfo(): Promise<NodeInfo> {
    return this.run('virNodeGetInfo', {}, () => this.driver.getNodeInfo());
  }
  getFreeMemory(): Promise<number> {
    return this.run('virNodeGetFreeMemory', {}, async () => {
      if (!this.driver.getFreeMemory) throw new VirtError('NO_SUPPORT', `virNodeGetFreeMemory: not supported by the ${this.driver.name} driver`);
      return this.driver.getFreeMemory();
    });
  }

  // ------------------------------------------------------------ domains

  async listAllDomains(filter: { active?: boolean; inactive?: boolean; persistent?: boolean; transient?: boolean; autostart?: boolean; noAutostart?: boolean; state?: DomainState[] } = {}): Promise<DomainHandle[]> {
    const all = await this.run('virConnectListAllDomains', {}, () => this.domainsDriver.listDomains());
    const wantActive = filter.active || filter.inactive ? !!filter.active : true;
    const wantInactive = filter.active || filter.inactive ? !!filter.inactive : true;
    return all
      .filter((d) => (d.id >= 0 ? wantActive : wantInactive))
      .filter((d) => (filter.persistent || filter.transient ? (d.persistent ? !!filter.persistent : !!filter.transient) : true))
      .filter((d) => (filter.autostart || filter.noAutostart ? (d.autostart ? !!filter.autostart : !!filter.noAutostart) : true))
      .filter((d) => (filter.state ? filter.state.includes(d.state) : true))
      .map((d) => new DomainHandle(this, d));
  }

  async lookupDomain(key: DomainKey): Promise<DomainHandle> {
    if ('name' in key) checkName('domain', key.name);
    else if ('uuid' in key) key = { uuid: checkUuid('domain', key.uuid) };
    else need(Number.isInteger(key.id) && key.id >= 0, `domain id '${key.id}' is not a valid id`);
    const s = await this.run('virDomainLookup', {}, () => this.domainsDriver.lookupDomain(key));
    return new DomainHandle(this, s);
  }

  lookupDomainByName(name: string): Promise<DomainHandle> {
    return this.lookupDomain({ name });
  }
  lookupDomainByUuid(uuid: string): Promise<DomainHandle> {
    return this.lookupDomain({ uuid });
  }
  lookupDomainById(id: number): Promise<DomainHandle> {
    return this.lookupDomain({ id });
  }

  /** As virsh resolves a domain argument: an id, then a UUID, then a name. */
  async resolveDomain(text: string): Promise<DomainHandle> {
    checkName('domain', text);
    if (/^[0-9]+$/.test(text) && Number(text) <= 0x7fffffff) {
      try {
        return await this.lookupDomain({ id: Number(text) });
      } catch (err) {
        if (!VirtError.is(err, 'NO_DOMAIN')) throw err;
      }
    }
    if (isUuid(text)) {
      try {
        return await this.lookupDomain({ uuid: text });
      } catch (err) {
        if (!VirtError.is(err, 'NO_DOMAIN')) throw err;
      }
    }
    return this.lookupDomain({ name: text });
  }

  async defineDomainXml(xml: string, opts: DomainDefineOptions = {}): Promise<DomainHandle> {
    checkXml('domain', xml);
    opts = schemaValidated('domain', xml, opts);
    const s = await this.run('virDomainDefineXML', { cap: 'domain.lifecycle', modify: true, lock: 'define' }, () => this.domainsDriver.defineDomain(xml, opts));
    return new DomainHandle(this, s);
  }

  async createDomainXml(xml: string, opts: DomainStartOptions = {}): Promise<DomainHandle> {
    checkXml('domain', xml);
    opts = schemaValidated('domain', xml, opts);
    const s = await this.run('virDomainCreateXML', { cap: 'domain.lifecycle', modify: true, lock: 'define' }, () => this.domainsDriver.createDomain(xml, opts));
    return new DomainHandle(this, s);
  }

  async restoreDomain(file: string, opts: DomainSaveOptions = {}, job?: JobContext): Promise<DomainHandle> {
    checkPath('saved state file', file);
    if (opts.xml !== undefined) checkXml('domain', opts.xml);
    const s = await this.run('virDomainRestore', { cap: 'domain.save', modify: true, lock: `restore:${file}` }, async () => {
      const d = this.domainsDriver;
      if (!d.restoreDomain) throw new VirtError('NO_SUPPORT', 'virDomainRestore: not supported');
      return d.restoreDomain(file, opts, job);
    });
    return new DomainHandle(this, s);
  }

  domainXmlToNative(format: string, xml: string): Promise<string> {
    checkName('native format', format);
    checkXml('domain', xml);
    return this.run('virConnectDomainXMLToNative', { cap: 'domain.native' }, async () => {
      const d = this.domainsDriver;
      if (!d.xmlToNative) throw new VirtError('NO_SUPPORT', 'virConnectDomainXMLToNative: not supported');
      return d.xmlToNative(format, xml);
    });
  }

  domainXmlFromNative(format: string, config: string): Promise<string> {
    checkName('native format', format);
    need(typeof config === 'string', 'native config must be a string');
    return this.run('virConnectDomainXMLFromNative', { cap: 'domain.native' }, async () => {
      const d = this.domainsDriver;
      if (!d.xmlFromNative) throw new VirtError('NO_SUPPORT', 'virConnectDomainXMLFromNative: not supported');
      return d.xmlFromNative(format, config);
    });
  }

  // ------------------------------------------------------------ networks

  async listAllNetworks(filter: { active?: boolean; inactive?: boolean; persistent?: boolean; transient?: boolean; autostart?: boolean; noAutostart?: boolean } = {}): Promise<NetworkHandle[]> {
    const all = await this.run('virConnectListAllNetworks', { cap: 'network' }, () => this.networks.listNetworks());
    return all
      .filter((n) => (filter.active || filter.inactive ? (n.active ? !!filter.active : !!filter.inactive) : true))
      .filter((n) => (filter.persistent || filter.transient ? (n.persistent ? !!filter.persistent : !!filter.transient) : true))
      .filter((n) => (filter.autostart || filter.noAutostart ? (n.autostart ? !!filter.autostart : !!filter.noAutostart) : true))
      .map((n) => new NetworkHandle(this, n));
  }

  async lookupNetwork(text: string): Promise<NetworkHandle> {
    checkName('network', text);
    const byUuid = isUuid(text);
    const s = await this.run('virNetworkLookup', { cap: 'network' }, async () => {
      if (byUuid) {
        try {
          return await this.networks.lookupNetwork({ uuid: parseUuid(text) });
        } catch (err) {
          if (!VirtError.is(err, 'NO_NETWORK')) throw err;
        }
      }
      return this.networks.lookupNetwork({ name: text });
    });
    return new NetworkHandle(this, s);
  }

  async defineNetworkXml(xml: string, opts: { validate?: boolean } = {}): Promise<NetworkHandle> {
    checkXml('network', xml);
    opts = schemaValidated('network', xml, opts);
    const s = await this.run('virNetworkDefineXML', { cap: 'network', modify: true, lock: 'network-define' }, () => this.networks.defineNetwork(xml, opts));
    return new NetworkHandle(this, s);
  }

  async createNetworkXml(xml: string, opts: { validate?: boolean } = {}): Promise<NetworkHandle> {
    checkXml('network', xml);
    opts = schemaValidated('network', xml, opts);
    const s = await this.run('virNetworkCreateXML', { cap: 'network', modify: true, lock: 'network-define' }, () => this.networks.createNetwork(xml, opts));
    return new NetworkHandle(this, s);
  }

  // ------------------------------------------------------------ storage

  async listAllStoragePools(filter: { active?: boolean; inactive?: boolean; persistent?: boolean; transient?: boolean; autostart?: boolean; noAutostart?: boolean; types?: string[] } = {}): Promise<StoragePoolHandle[]> {
    const all = await this.run('virConnectListAllStoragePools', { cap: 'storage' }, () => this.storage.listPools());
    return all
      .filter((p) => (filter.active || filter.inactive ? (p.state === 'running' ? !!filter.active : !!filter.inactive) : true))
      .filter((p) => (filter.persistent || filter.transient ? (p.persistent ? !!filter.persistent : !!filter.transient) : true))
      .filter((p) => (filter.autostart || filter.noAutostart ? (p.autostart ? !!filter.autostart : !!filter.noAutostart) : true))
      .filter((p) => (filter.types ? filter.types.includes(p.type) : true))
      .map((p) => new StoragePoolHandle(this, p));
  }

  async lookupStoragePool(text: string): Promise<StoragePoolHandle> {
    checkName('storage pool', text);
    const byUuid = isUuid(text);
    const s = await this.run('virStoragePoolLookup', { cap: 'storage' }, async () => {
      if (byUuid) {
        try {
          return await this.storage.lookupPool({ uuid: parseUuid(text) });
        } catch (err) {
          if (!VirtError.is(err, 'NO_STORAGE_POOL')) throw err;
        }
      }
      return this.storage.lookupPool({ name: text });
    });
    return new StoragePoolHandle(this, s);
  }

  async defineStoragePoolXml(xml: string, opts: { validate?: boolean } = {}): Promise<StoragePoolHandle> {
    checkXml('storage pool', xml);
    opts = schemaValidated('storagepool', xml, opts);
    const s = await this.run('virStoragePoolDefineXML', { cap: 'storage', modify: true, lock: 'pool-define' }, () => this.storage.definePool(xml, opts));
    return new StoragePoolHandle(this, s);
  }

  async createStoragePoolXml(xml: string, opts: PoolBuildOptions & { build?: boolean } = {}): Promise<StoragePoolHandle> {
    checkXml('storage pool', xml);
    const s = await this.run('virStoragePoolCreateXML', { cap: 'storage', modify: true, lock: 'pool-define' }, () => this.storage.createPool(xml, opts));
    return new StoragePoolHandle(this, s);
  }

  findStoragePoolSources(type: string, srcSpecXml?: string): Promise<string> {
    checkName('storage pool type', type);
    if (srcSpecXml !== undefined) checkXml('source spec', srcSpecXml);
    return this.run('virConnectFindStoragePoolSources', { cap: 'storage' }, async () => {
      if (!this.storage.findPoolSources) throw new VirtError('NO_SUPPORT', `find-storage-pool-sources is not supported for pool type '${type}'`);
      return this.storage.findPoolSources(type, srcSpecXml);
    });
  }

  /** A volume by key or path (`vol-info /path/to/disk.img`). */
  async lookupStorageVolume(keyOrPath: string): Promise<StorageVolHandle> {
    checkName('storage volume', keyOrPath);
    const s = await this.run('virStorageVolLookup', { cap: 'storage' }, async () => {
      try {
        return await this.storage.lookupVolume({ key: keyOrPath });
      } catch (err) {
        if (!VirtError.is(err, 'NO_STORAGE_VOL') || !keyOrPath.startsWith('/')) throw err;
        return this.storage.lookupVolume({ path: keyOrPath });
      }
    });
    return new StorageVolHandle(this, s);
  }

  // ------------------------------------------------------------ interfaces

  async listAllInterfaces(filter: { active?: boolean; inactive?: boolean } = {}): Promise<InterfaceHandle[]> {
    const all = await this.run('virConnectListAllInterfaces', { cap: 'interface' }, () => this.interfaces.listInterfaces());
    return all
      .filter((i) => (filter.active || filter.inactive ? (i.active ? !!filter.active : !!filter.inactive) : true))
      .map((i) => new InterfaceHandle(this, i));
  }

  async lookupInterface(nameOrMac: string): Promise<InterfaceHandle> {
    checkName('interface', nameOrMac);
    const byMac = /^([0-9a-fA-F]{1,2}[:-]){5}[0-9a-fA-F]{1,2}$/.test(nameOrMac);
    const s = await this.run('virInterfaceLookup', { cap: 'interface' }, () =>
      this.interfaces.lookupInterface(byMac ? { mac: nameOrMac.toLowerCase() } : { name: nameOrMac }),
    );
    return new InterfaceHandle(this, s);
  }
}

/** Opens a connection; `uri` undefined picks the default as DESIGN.md says. */
export function openConnection(uri?: string, opts?: ConnectOptions): Promise<Connection> {
  return Connection.open(uri, opts);
}

// ================================================================ handles

/** A domain: its identity as of the last lookup, and every per-domain call. */
export class DomainHandle {
  name: string;
  readonly uuid: string;
  /** -1 when inactive (as of the last lookup or refresh). */
  id: number;
  private summary: DomainSummary;

  constructor(readonly conn: Connection, s: DomainSummary) {
    this.name = s.name;
    this.uuid = s.uuid;
    this.id = s.id;
    this.summary = s;
  }

  private get d(): DomainDriver {
    return this.conn.domainsDriver;
  }

  private label(): string {
    return `domain '${this.name}'`;
  }

  private op<T>(what: string, cap: Capability | undefined, modify: boolean, fn: (d: DomainDriver) => Promise<T>): Promise<T> {
    return this.conn.run(`${what} (${this.label()})`, { cap, modify, lock: this.uuid }, () => fn(this.d));
  }

  private optional<K extends keyof DomainDriver>(d: DomainDriver, key: K, what: string): NonNullable<DomainDriver[K]> {
    const f = d[key];
    if (typeof f !== 'function') throw new VirtError('NO_SUPPORT', `${what}: not supported by the ${this.conn.driver.name} driver`, { origin: this.conn.driver.name });
    return (f as (...a: unknown[]) => unknown).bind(d) as NonNullable<DomainDriver[K]>;
  }

  /** Re-reads id, name and state. */
  async refresh(): Promise<DomainSummary> {
    const s = await this.conn.run('virDomainLookup', {}, () => this.d.lookupDomain({ uuid: this.uuid }));
    this.summary = s;
    this.id = s.id;
    this.name = s.name;
    return s;
  }

  /** The summary as of the last lookup/refresh. */
  get lastSummary(): DomainSummary {
    return this.summary;
  }

  async isActive(): Promise<boolean> {
    return (await this.refresh()).id >= 0;
  }
  async isPersistent(): Promise<boolean> {
    return (await this.refresh()).persistent;
  }

  getInfo(): Promise<DomainInfo> {
    return this.op('virDomainGetInfo', undefined, false, (d) => d.getInfo(this.uuid));
  }
  getState(): Promise<{ state: DomainState; reason: string }> {
    return this.op('virDomainGetState', undefined, false, (d) => d.getState(this.uuid));
  }
  getXmlDesc(opts: DomainXmlOptions = {}): Promise<string> {
    return this.op('virDomainGetXMLDesc', undefined, false, (d) => d.getXml(this.uuid, opts));
  }
  /**
   * The addresses of the running domain's interfaces (virsh domifaddr). The
   * `lease` source (the default) reads its networks' DHCP leases.
   */
  async getInterfaceAddresses(opts: { source?: InterfaceAddressSource } = {}): Promise<DomainInterfaceAddresses[]> {
    const source = opts.source ?? 'lease';
    if (source !== 'lease') throw unsupportedAddressSource(this.name, source);
    if ((await this.refresh()).id < 0) throw new VirtError('OPERATION_INVALID', `domain '${this.name}' is not running`);
    return interfaceAddressesFromLeases(this.conn, this.name, await this.getXmlDesc());
  }

  /** Statistics of the named groups (`state`, `cpu`, `balloon`, `vcpu`, `net`, `block`), or all. */
  async getStats(groups?: string[]): Promise<DomainStats> {
    const stats = await this.op('virDomainGetStats', 'domain.stats', false, (d) => this.optional(d, 'getStats', 'virDomainGetStats')(this.uuid, groups));
    if (!groups?.length) return stats;
    // A driver may return more than asked for: the caller gets the groups it named.
    return Object.fromEntries(Object.entries(stats).filter(([k]) => groups.includes(k.slice(0, k.indexOf('.')))));
  }
  async getAutostart(): Promise<boolean> {
    return (await this.refresh()).autostart;
  }

  async start(opts: DomainStartOptions = {}): Promise<void> {
    await this.op('virDomainCreate', 'domain.lifecycle', true, (d) => d.startDomain(this.uuid, opts));
    await this.refresh().catch(() => {});
  }
  async shutdown(opts: DomainShutdownOptions = {}): Promise<void> {
    if (opts.waitMs !== undefined) checkCount('shutdown wait', opts.waitMs);
    await this.op('virDomainShutdown', 'domain.lifecycle', true, (d) => this.optional(d, 'shutdownDomain', 'virDomainShutdown')(this.uuid, opts));
  }
  async destroy(opts: { graceful?: boolean } = {}): Promise<void> {
    await this.op('virDomainDestroy', 'domain.lifecycle', true, (d) => d.destroyDomain(this.uuid, opts));
    await this.refresh().catch(() => {});
  }
  reboot(opts: { modes?: ShutdownMode[] } = {}): Promise<void> {
    return this.op('virDomainReboot', 'domain.lifecycle', true, (d) => this.optional(d, 'rebootDomain', 'virDomainReboot')(this.uuid, opts));
  }
  reset(): Promise<void> {
    return this.op('virDomainReset', 'domain.reset', true, (d) => this.optional(d, 'resetDomain', 'virDomainReset')(this.uuid));
  }
  suspend(): Promise<void> {
    return this.op('virDomainSuspend', 'domain.suspend', true, (d) => this.optional(d, 'suspendDomain', 'virDomainSuspend')(this.uuid));
  }
  resume(): Promise<void> {
    return this.op('virDomainResume', 'domain.suspend', true, (d) => this.optional(d, 'resumeDomain', 'virDomainResume')(this.uuid));
  }
  async save(file: string, opts: DomainSaveOptions = {}, job?: JobContext): Promise<void> {
    checkPath('saved state file', file);
    if (opts.xml !== undefined) checkXml('domain', opts.xml);
    await this.op('virDomainSave', 'domain.save', true, (d) => this.optional(d, 'saveDomain', 'virDomainSave')(this.uuid, file, opts, job));
    await this.refresh().catch(() => {});
  }
  async managedSave(opts: DomainSaveOptions = {}, job?: JobContext): Promise<void> {
    await this.op('virDomainManagedSave', 'domain.managedsave', true, (d) => this.optional(d, 'managedSaveDomain', 'virDomainManagedSave')(this.uuid, opts, job));
    await this.refresh().catch(() => {});
  }
  removeManagedSave(): Promise<void> {
    return this.op('virDomainManagedSaveRemove', 'domain.managedsave', true, (d) => this.optional(d, 'removeManagedSave', 'virDomainManagedSaveRemove')(this.uuid));
  }
  async hasManagedSave(): Promise<boolean> {
    return (await this.refresh()).managedSave;
  }
  undefine(opts: DomainUndefineOptions = {}): Promise<void> {
    return this.op('virDomainUndefine', 'domain.lifecycle', true, (d) => d.undefineDomain(this.uuid, opts));
  }
  setAutostart(autostart: boolean): Promise<void> {
    need(typeof autostart === 'boolean', 'autostart must be true or false');
    return this.op('virDomainSetAutostart', 'domain.autostart', true, (d) => this.optional(d, 'setAutostart', 'virDomainSetAutostart')(this.uuid, autostart));
  }
  attachDevice(xml: string, opts: DeviceChangeOptions = {}): Promise<void> {
    checkXml('device', xml);
    return this.op('virDomainAttachDevice', undefined, true, (d) => this.optional(d, 'attachDevice', 'virDomainAttachDevice')(this.uuid, xml, opts));
  }
  detachDevice(xml: string, opts: DeviceChangeOptions = {}): Promise<void> {
    checkXml('device', xml);
    return this.op('virDomainDetachDevice', undefined, true, (d) => this.optional(d, 'detachDevice', 'virDomainDetachDevice')(this.uuid, xml, opts));
  }
  /** A QEMU monitor command passed through (virsh qemu-monitor-command): QMP JSON in, QEMU's JSON reply out; `hmp` for a human monitor line. */
  qemuMonitorCommand(command: string, opts: { hmp?: boolean } = {}): Promise<string> {
    need(typeof command === 'string' && command.trim() !== '', 'the monitor command must be a non-empty string');
    return this.op('virDomainQemuMonitorCommand', 'qemu.monitor-command', true, (d) => this.optional(d, 'qemuMonitorCommand', 'virDomainQemuMonitorCommand')(this.uuid, command, opts));
  }
  updateDevice(xml: string, opts: DeviceChangeOptions = {}): Promise<void> {
    checkXml('device', xml);
    return this.op('virDomainUpdateDeviceFlags', undefined, true, (d) => this.optional(d, 'updateDevice', 'virDomainUpdateDeviceFlags')(this.uuid, xml, opts));
  }
  setMemory(kib: number, opts: DeviceChangeOptions & { maximum?: boolean } = {}): Promise<void> {
    checkCount('memory (KiB)', kib);
    return this.op('virDomainSetMemoryFlags', 'domain.setmem', true, (d) => this.optional(d, 'setMemory', 'virDomainSetMemoryFlags')(this.uuid, kib, opts));
  }
  setVcpus(count: number, opts: DeviceChangeOptions & { maximum?: boolean; guest?: boolean } = {}): Promise<void> {
    checkCount('vCPU count', count, 16384);
    need(count > 0, 'vCPU count must be at least 1');
    return this.op('virDomainSetVcpusFlags', 'domain.setvcpus', true, (d) => this.optional(d, 'setVcpus', 'virDomainSetVcpusFlags')(this.uuid, count, opts));
  }
  openConsole(opts: { device?: string; force?: boolean } = {}): Promise<Duplex> {
    return this.op('virDomainOpenConsole', 'domain.console', false, (d) => this.optional(d, 'openConsole', 'virDomainOpenConsole')(this.uuid, opts));
  }
  getSchedulerParams(opts: DeviceChangeOptions = {}): Promise<Record<string, number>> {
    return this.op('virDomainGetSchedulerParameters', undefined, false, (d) => this.optional(d, 'getSchedulerParams', 'virDomainGetSchedulerParameters')(this.uuid, opts));
  }
  setSchedulerParams(params: Record<string, number>, opts: DeviceChangeOptions = {}): Promise<void> {
    need(!!params && typeof params === 'object' && Object.keys(params).length > 0, 'scheduler parameters must be a non-empty object');
    for (const [k, v] of Object.entries(params)) need(Number.isSafeInteger(v), `scheduler parameter '${k}' must be an integer`);
    return this.op('virDomainSetSchedulerParameters', undefined, true, (d) => this.optional(d, 'setSchedulerParams', 'virDomainSetSchedulerParameters')(this.uuid, params, opts));
  }
  getJobInfo(opts: { completed?: boolean } = {}): Promise<DomainJobInfo> {
    return this.op('virDomainGetJobStats', 'domain.jobs', false, (d) =>
      this.optional(d, 'getJobInfo', 'virDomainGetJobStats')(this.uuid, ...(opts.completed ? [{ completed: true }] : [])),
    );
  }
  abortJob(): Promise<void> {
    // Abort must not wait for the job lock held by the job it aborts.
    return this.op('virDomainAbortJob', 'domain.jobs', false, (d) => this.optional(d, 'abortJob', 'virDomainAbortJob')(this.uuid));
  }
  /**
   * Migrates the domain to the host `destUri` names. By default this
   * process drives the migration with a connection of its own to the
   * destination (virDomainMigrate3; the URI is as this process sees the
   * destination); with `peer2peer` the source host drives it and the URI
   * is as the source host sees it (virDomainMigrateToURI3). See
   * docs/migration.md.
   */
  async migrate(destUri: string, opts: DomainMigrateOptions = {}): Promise<void> {
    checkName('destination URI', destUri);
    // A driver without the phases (or without migration at all: NO_SUPPORT from op) can only go peer-to-peer.
    const peer2peer = !!opts.peer2peer || typeof this.d.migrateBegin !== 'function' || !this.conn.supports('domain.migrate');
    if (peer2peer) {
      const job: JobContext = { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) };
      await this.op('virDomainMigrateToURI3', 'domain.migrate', true, (d) =>
        this.optional(d, 'migrate', 'virDomainMigrateToURI3')(this.uuid, destUri, { ...migrationFlagsOf(opts), peer2peer: true }, job),
      );
    } else {
      const dest = await Connection.open(destUri, this.conn.openedWith ?? {});
      try {
        await this.migrateTo(dest, opts);
      } finally {
        await dest.close();
      }
    }
    await this.refresh().catch(() => {});
  }

  /**
   * Migrates the domain to the host of an open connection, this process
   * running the phases on both (virDomainMigrate3). Returns the domain on
   * the destination.
   */
  async migrateTo(dest: Connection, opts: DomainMigrateOptions = {}): Promise<DomainHandle> {
    need(dest instanceof Connection && dest.isAlive(), 'the destination must be an open connection');
    need(!opts.peer2peer, 'migrateTo drives the migration from this process: a peer-to-peer migration goes through migrate(destUri, { peer2peer: true })');
    const lost = new AbortController();
    const unlisten = dest.onLost((reason) => lost.abort(reason));
    try {
      const summary = await this.op('virDomainMigrate3', 'domain.migrate', true, (d) =>
        runMigration(
          {
            source: d,
            destination: dest.domainsDriver,
            destinationUri: dest.uri.raw,
            ...(dest.uri.host ? { destinationHost: dest.uri.host } : {}),
            destinationLost: lost.signal,
            peer2peer: false,
          },
          this.uuid,
          opts,
        ),
      );
      return summary ? new DomainHandle(dest, summary) : dest.lookupDomain({ uuid: this.uuid });
    } finally {
      unlisten();
    }
  }

  /** Switches the running migration to post-copy (needs `postcopy` when it started). */
  migrateStartPostCopy(): Promise<void> {
    // Like abortJob: it acts on the running migration, so it must not wait for that job's lock.
    return this.conn.run(`virDomainMigrateStartPostCopy (${this.label()})`, { cap: 'domain.migrate', modify: true }, () =>
      this.optional(this.d, 'migrateStartPostCopy', 'virDomainMigrateStartPostCopy')(this.uuid),
    );
  }
}

export class NetworkHandle {
  readonly name: string;
  readonly uuid: string;
  constructor(readonly conn: Connection, private summary: NetworkSummary) {
    this.name = summary.name;
    this.uuid = summary.uuid;
  }
  get lastSummary(): NetworkSummary {
    return this.summary;
  }
  private op<T>(what: string, modify: boolean, fn: (n: NetworkDriver) => Promise<T>, cap: Capability = 'network'): Promise<T> {
    return this.conn.run(`${what} (network '${this.name}')`, { cap, modify, lock: `network:${this.uuid}` }, () => fn(this.conn.networks));
  }
  async refresh(): Promise<NetworkSummary> {
    this.summary = await this.op('virNetworkLookup', false, (n) => n.lookupNetwork({ uuid: this.uuid }));
    return this.summary;
  }
  async isActive(): Promise<boolean> {
    return (await this.refresh()).active;
  }
  start(): Promise<void> {
    return this.op('virNetworkCreate', true, (n) => n.startNetwork(this.uuid));
  }
  destroy(): Promise<void> {
    return this.op('virNetworkDestroy', true, (n) => n.destroyNetwork(this.uuid));
  }
  undefine(): Promise<void> {
    return this.op('virNetworkUndefine', true, (n) => n.undefineNetwork(this.uuid));
  }
  setAutostart(autostart: boolean): Promise<void> {
    return this.op('virNetworkSetAutostart', true, (n) => n.setNetworkAutostart(this.uuid, autostart));
  }
  getXmlDesc(opts: { inactive?: boolean } = {}): Promise<string> {
    return this.op('virNetworkGetXMLDesc', false, (n) => n.getNetworkXml(this.uuid, opts));
  }
  update(command: NetworkUpdateCommand, section: NetworkUpdateSection, xml: string, opts: DeviceChangeOptions & { parentIndex?: number } = {}): Promise<void> {
    checkXml('network update', xml);
    return this.op('virNetworkUpdate', true, async (n) => {
      if (!n.updateNetwork) throw new VirtError('NO_SUPPORT', 'virNetworkUpdate: not supported');
      return n.updateNetwork(this.uuid, command, section, xml, opts);
    });
  }
  getDhcpLeases(mac?: string): Promise<DhcpLease[]> {
    return this.op('virNetworkGetDHCPLeases', false, async (n) => {
      if (!n.getDhcpLeases) throw new VirtError('NO_SUPPORT', 'virNetworkGetDHCPLeases: not supported');
      return n.getDhcpLeases(this.uuid, mac);
    });
  }
}

export class StoragePoolHandle {
  readonly name: string;
  readonly uuid: string;
  constructor(readonly conn: Connection, private summary: PoolSummary) {
    this.name = summary.name;
    this.uuid = summary.uuid;
  }
  get lastSummary(): PoolSummary {
    return this.summary;
  }
  private op<T>(what: string, modify: boolean, fn: (s: StorageDriver) => Promise<T>): Promise<T> {
    return this.conn.run(`${what} (storage pool '${this.name}')`, { cap: 'storage', modify, lock: `pool:${this.uuid}` }, () => fn(this.conn.storage));
  }
  async refreshSummary(): Promise<PoolSummary> {
    this.summary = await this.op('virStoragePoolLookup', false, (s) => s.lookupPool({ uuid: this.uuid }));
    return this.summary;
  }
  async isActive(): Promise<boolean> {
    return (await this.refreshSummary()).state === 'running';
  }
  async build(opts: PoolBuildOptions = {}, job?: JobContext): Promise<void> {
    need(!(opts.overwrite && opts.noOverwrite), '--overwrite and --no-overwrite are mutually exclusive');
    return this.op('virStoragePoolBuild', true, (s) => s.buildPool(this.uuid, opts, job));
  }
  async start(opts: PoolBuildOptions & { build?: boolean } = {}): Promise<void> {
    need(!(opts.overwrite && opts.noOverwrite), '--overwrite and --no-overwrite are mutually exclusive');
    return this.op('virStoragePoolCreate', true, (s) => s.startPool(this.uuid, opts));
  }
  destroy(): Promise<void> {
    return this.op('virStoragePoolDestroy', true, (s) => s.destroyPool(this.uuid));
  }
  delete(): Promise<void> {
    return this.op('virStoragePoolDelete', true, (s) => s.deletePool(this.uuid));
  }
  undefine(): Promise<void> {
    return this.op('virStoragePoolUndefine', true, (s) => s.undefinePool(this.uuid));
  }
  refresh(): Promise<void> {
    return this.op('virStoragePoolRefresh', true, (s) => s.refreshPool(this.uuid));
  }
  setAutostart(autostart: boolean): Promise<void> {
    return this.op('virStoragePoolSetAutostart', true, (s) => s.setPoolAutostart(this.uuid, autostart));
  }
  getInfo(): Promise<PoolInfo> {
    return this.op('virStoragePoolGetInfo', false, (s) => s.getPoolInfo(this.uuid));
  }
  getXmlDesc(opts: { inactive?: boolean } = {}): Promise<string> {
    return this.op('virStoragePoolGetXMLDesc', false, (s) => s.getPoolXml(this.uuid, opts));
  }
  async listAllVolumes(): Promise<StorageVolHandle[]> {
    const vols = await this.op('virStoragePoolListAllVolumes', false, (s) => s.listVolumes(this.uuid));
    return vols.map((v) => new StorageVolHandle(this.conn, v));
  }
  async lookupVolume(name: string): Promise<StorageVolHandle> {
    checkName('storage volume', name);
    const v = await this.op('virStorageVolLookupByName', false, (s) => s.lookupVolume({ pool: this.name, name }));
    return new StorageVolHandle(this.conn, v);
  }
  async createVolumeXml(xml: string, opts: VolumeCreateOptions = {}, job?: JobContext): Promise<StorageVolHandle> {
    checkXml('storage volume', xml);
    opts = schemaValidated('storagevol', xml, opts);
    const v = await this.op('virStorageVolCreateXML', true, (s) => s.createVolume(this.uuid, xml, opts, job));
    return new StorageVolHandle(this.conn, v);
  }
  async createVolumeXmlFrom(xml: string, source: StorageVolHandle, opts: VolumeCreateOptions = {}, job?: JobContext): Promise<StorageVolHandle> {
    checkXml('storage volume', xml);
    opts = schemaValidated('storagevol', xml, opts);
    const v = await this.op('virStorageVolCreateXMLFrom', true, (s) => s.createVolumeFrom(this.uuid, xml, source.ref, opts, job));
    return new StorageVolHandle(this.conn, v);
  }
}

export class StorageVolHandle {
  readonly pool: string;
  readonly name: string;
  readonly key: string;
  readonly path: string;
  constructor(readonly conn: Connection, readonly summary: VolumeSummary) {
    this.pool = summary.pool;
    this.name = summary.name;
    this.key = summary.key;
    this.path = summary.path;
  }
  get ref(): VolumeKey {
    return { pool: this.pool, name: this.name };
  }
  private op<T>(what: string, modify: boolean, fn: (s: StorageDriver) => Promise<T>, cap: Capability = 'storage'): Promise<T> {
    return this.conn.run(`${what} (volume '${this.name}' in pool '${this.pool}')`, { cap, modify, lock: `vol:${this.key}` }, () => fn(this.conn.storage));
  }
  private need<K extends keyof StorageDriver>(s: StorageDriver, k: K, what: string): NonNullable<StorageDriver[K]> {
    const f = s[k];
    if (typeof f !== 'function') throw new VirtError('NO_SUPPORT', `${what}: not supported for volumes of pool '${this.pool}'`);
    return (f as (...a: unknown[]) => unknown).bind(s) as NonNullable<StorageDriver[K]>;
  }
  getInfo(): Promise<VolumeInfo> {
    return this.op('virStorageVolGetInfo', false, (s) => s.getVolumeInfo(this.ref));
  }
  getXmlDesc(): Promise<string> {
    return this.op('virStorageVolGetXMLDesc', false, (s) => s.getVolumeXml(this.ref));
  }
  delete(opts: { deleteSnapshots?: boolean } = {}): Promise<void> {
    return this.op('virStorageVolDelete', true, (s) => s.deleteVolume(this.ref, opts));
  }
  async resize(capacity: number, opts: VolumeResizeOptions = {}): Promise<void> {
    need(typeof capacity === 'number' && Number.isFinite(capacity) && (opts.delta || capacity >= 0), 'capacity must be a number of bytes');
    return this.op('virStorageVolResize', true, (s) => this.need(s, 'resizeVolume', 'virStorageVolResize')(this.ref, capacity, opts));
  }
  async wipe(algorithm: WipeAlgorithm = 'zero', job?: JobContext): Promise<void> {
    need((WIPE_ALGORITHMS as readonly string[]).includes(algorithm), `unknown wipe algorithm '${algorithm}'`);
    return this.op('virStorageVolWipePattern', true, (s) => this.need(s, 'wipeVolume', 'virStorageVolWipe')(this.ref, algorithm, job));
  }
  async upload(source: Readable, opts: VolumeTransferOptions = {}, job?: JobContext): Promise<void> {
    if (opts.offset !== undefined) checkCount('offset', opts.offset);
    if (opts.length !== undefined) checkCount('length', opts.length);
    return this.op('virStorageVolUpload', true, (s) => this.need(s, 'uploadVolume', 'virStorageVolUpload')(this.ref, source, opts, job));
  }
  async download(opts: VolumeTransferOptions = {}, job?: JobContext): Promise<Readable> {
    if (opts.offset !== undefined) checkCount('offset', opts.offset);
    if (opts.length !== undefined) checkCount('length', opts.length);
    return this.op('virStorageVolDownload', false, (s) => this.need(s, 'downloadVolume', 'virStorageVolDownload')(this.ref, opts, job));
  }
}

export class InterfaceHandle {
  readonly name: string;
  readonly mac: string;
  constructor(readonly conn: Connection, readonly summary: InterfaceSummary) {
    this.name = summary.name;
    this.mac = summary.mac;
  }
  getXmlDesc(opts: { inactive?: boolean } = {}): Promise<string> {
    return this.conn.run(`virInterfaceGetXMLDesc (interface '${this.name}')`, { cap: 'interface' }, () => this.conn.interfaces.getInterfaceXml(this.name, opts));
  }
  isActive(): boolean {
    return this.summary.active;
  }
}
