/**
 * The driver contract: what a hypervisor driver (and the storage, network
 * and host-interface parts of a connection) implements, modelled on
 * libvirt's driver tables (src/driver-hypervisor.h, driver-storage.h,
 * driver-network.h). Everything crossing this boundary is plain JSON data or
 * an XML string, so the remote driver can forward any call unchanged.
 *
 * A driver implements a subset and declares which through its capability
 * set; core's wrappers (connection.ts) check arguments, read-only access,
 * the capability and the object's job lock before calling it.
 */
import type { Duplex, Readable } from 'node:stream';
import type { EventBus } from './events.js';
import type { VirtUri } from './uri.js';

// ---------------------------------------------------------------- capabilities

/**
 * Capability names. Drivers may declare more (third-party names should be
 * prefixed with the driver name); these are the ones core knows.
 */
export const CAPABILITIES = [
  'domain.lifecycle', // define, undefine, create, start, destroy, shutdown, reboot
  'domain.reset',
  'domain.suspend', // suspend, resume
  'domain.save', // save, restore
  'domain.managedsave',
  'domain.autostart',
  'domain.stats',
  'domain.console',
  'domain.hotplug.disk',
  'domain.hotplug.nic',
  'domain.hotplug.memory',
  'domain.hotplug.vcpu',
  'domain.setmem',
  'domain.setvcpus',
  'domain.migrate',
  'domain.native', // domxml-to-native / domxml-from-native
  'domain.jobs', // domjobinfo, domjobabort
  'network',
  'network.update',
  'network.dhcp-leases',
  'storage',
  'storage.upload',
  'storage.download',
  'storage.wipe',
  'storage.resize',
  'interface',
  'events',
] as const;

export type KnownCapability = (typeof CAPABILITIES)[number];
export type Capability = KnownCapability | (string & {});

// ---------------------------------------------------------------- jobs

/** Progress and cancellation of a long operation. */
export interface JobContext {
  signal?: AbortSignal;
  onProgress?: (progress: JobProgress) => void;
}

export interface JobProgress {
  processed: number;
  total: number;
  /** `save`, `restore`, `migration`, `volume-create`, … */
  operation?: string;
}

// ---------------------------------------------------------------- host

export interface NodeInfo {
  /** CPU model, e.g. `x86_64`. */
  model: string;
  /** Memory in KiB. */
  memoryKiB: number;
  cpus: number;
  /** MHz. */
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface VersionInfo {
  /** `QEMU`, `LXC`, `Xen`, `Test`. */
  hypervisor: string;
  /** `7.2.0`. */
  version: string;
}

// ---------------------------------------------------------------- domains

export const DOMAIN_STATES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

/** A domain as listings and lookups return it. `id` is -1 when inactive. */
export interface DomainSummary {
  id: number;
  name: string;
  uuid: string;
  state: DomainState;
  /** libvirt's state reason, lowercase (`booted`, `user`, `destroyed`, `saved`, `unknown`, …). */
  reason: string;
  persistent: boolean;
  autostart: boolean;
  managedSave: boolean;
}

export interface DomainInfo {
  state: DomainState;
  reason: string;
  /** Maximum memory, KiB. */
  maxMemKiB: number;
  /** Current memory, KiB. */
  memoryKiB: number;
  vcpus: number;
  /** CPU time used, ns. */
  cpuTimeNs: number;
  persistent: boolean;
  autostart: boolean;
  managedSave: boolean;
  /** `Linux` / `hvm` / `exe`: the guest OS type. */
  osType: string;
  securityModel?: string;
  securityLabel?: { label: string; enforcing: boolean };
}

/** Lookup key: exactly one of name, uuid or id. */
export type DomainKey = { name: string } | { uuid: string } | { id: number };

export interface DomainDefineOptions {
  /** Validate against libvirt's schema rules (`define --validate`). */
  validate?: boolean;
}

export interface DomainStartOptions {
  paused?: boolean;
  autodestroy?: boolean;
  bypassCache?: boolean;
  forceBoot?: boolean;
  validate?: boolean;
}

export type ShutdownMode = 'acpi' | 'agent' | 'initctl' | 'signal' | 'paravirt';

export interface DomainShutdownOptions {
  modes?: ShutdownMode[];
  /** Wait until the guest is off, up to this long (ms); 0 = return at once. */
  waitMs?: number;
}

export interface DomainUndefineOptions {
  managedSave?: boolean;
  snapshotsMetadata?: boolean;
  nvram?: boolean;
  keepNvram?: boolean;
}

export interface DomainXmlOptions {
  inactive?: boolean;
  secure?: boolean;
  migratable?: boolean;
  updateCpu?: boolean;
}

export interface DomainSaveOptions {
  /** Replacement domain XML to use at restore. */
  xml?: string;
  /** State after restore: `running` or `paused` (default: as saved). */
  startAs?: 'running' | 'paused';
  bypassCache?: boolean;
}

/** Where a device change applies (virDomainModificationImpact). */
export interface DeviceChangeOptions {
  live?: boolean;
  config?: boolean;
  /** `current`: live when running, config otherwise (the default). */
  current?: boolean;
}

export type DomainStats = Record<string, number | string | boolean>;

export interface DomainJobInfo {
  type: 'none' | 'bounded' | 'unbounded' | 'completed' | 'failed' | 'cancelled';
  operation?: string;
  timeElapsedMs?: number;
  timeRemainingMs?: number;
  dataTotal?: number;
  dataProcessed?: number;
  dataRemaining?: number;
  memTotal?: number;
  memProcessed?: number;
  memRemaining?: number;
  memIteration?: number;
  memDirtyRate?: number;
  expectedDowntimeMs?: number;
  downtimeMs?: number;
  [key: string]: string | number | undefined;
}

export interface DomainMigrateOptions extends JobContext {
  live?: boolean;
  persistent?: boolean;
  undefineSource?: boolean;
  offline?: boolean;
  copyStorage?: 'all' | 'inc';
  tunnelled?: boolean;
  postcopy?: boolean;
  timeoutMs?: number;
  timeoutAction?: 'suspend' | 'postcopy';
  migrateUri?: string;
  xml?: string;
}

/** Per-domain operations. Every method but the list/lookup/define ones takes the domain's UUID. */
export interface DomainDriver {
  listDomains(): Promise<DomainSummary[]>;
  /** Throws NO_DOMAIN when nothing matches. */
  lookupDomain(key: DomainKey): Promise<DomainSummary>;
  defineDomain(xml: string, opts?: DomainDefineOptions): Promise<DomainSummary>;
  undefineDomain(uuid: string, opts?: DomainUndefineOptions): Promise<void>;
  /** Starts a transient domain from XML. */
  createDomain(xml: string, opts?: DomainStartOptions): Promise<DomainSummary>;
  startDomain(uuid: string, opts?: DomainStartOptions): Promise<void>;
  shutdownDomain?(uuid: string, opts?: DomainShutdownOptions): Promise<void>;
  destroyDomain(uuid: string, opts?: { graceful?: boolean }): Promise<void>;
  rebootDomain?(uuid: string, opts?: { modes?: ShutdownMode[] }): Promise<void>;
  resetDomain?(uuid: string): Promise<void>;
  suspendDomain?(uuid: string): Promise<void>;
  resumeDomain?(uuid: string): Promise<void>;
  saveDomain?(uuid: string, file: string, opts?: DomainSaveOptions, job?: JobContext): Promise<void>;
  restoreDomain?(file: string, opts?: DomainSaveOptions, job?: JobContext): Promise<DomainSummary>;
  managedSaveDomain?(uuid: string, opts?: DomainSaveOptions, job?: JobContext): Promise<void>;
  removeManagedSave?(uuid: string): Promise<void>;
  setAutostart?(uuid: string, autostart: boolean): Promise<void>;
  getXml(uuid: string, opts?: DomainXmlOptions): Promise<string>;
  getInfo(uuid: string): Promise<DomainInfo>;
  getState(uuid: string): Promise<{ state: DomainState; reason: string }>;
  getStats?(uuid: string, groups?: string[]): Promise<DomainStats>;
  attachDevice?(uuid: string, xml: string, opts?: DeviceChangeOptions): Promise<void>;
  detachDevice?(uuid: string, xml: string, opts?: DeviceChangeOptions): Promise<void>;
  updateDevice?(uuid: string, xml: string, opts?: DeviceChangeOptions): Promise<void>;
  /** Current (balloon) memory in KiB; `maximum` changes the maximum instead. */
  setMemory?(uuid: string, kib: number, opts?: DeviceChangeOptions & { maximum?: boolean }): Promise<void>;
  setVcpus?(uuid: string, count: number, opts?: DeviceChangeOptions & { maximum?: boolean; guest?: boolean }): Promise<void>;
  /** A byte stream to the guest's console or serial device (`device` = alias, default the first console). */
  openConsole?(uuid: string, opts?: { device?: string; force?: boolean }): Promise<Duplex>;
  xmlToNative?(format: string, xml: string): Promise<string>;
  xmlFromNative?(format: string, config: string): Promise<string>;
  /** Scheduler parameters (virDomainGetSchedulerParameters): `cpu_shares`, `vcpu_period`, `vcpu_quota`, … */
  getSchedulerParams?(uuid: string, opts?: DeviceChangeOptions): Promise<Record<string, number>>;
  /** Changes scheduler parameters (virDomainSetSchedulerParametersFlags); unknown names are INVALID_ARG. */
  setSchedulerParams?(uuid: string, params: Record<string, number>, opts?: DeviceChangeOptions): Promise<void>;
  getJobInfo?(uuid: string): Promise<DomainJobInfo>;
  abortJob?(uuid: string): Promise<void>;
  migrate?(uuid: string, destUri: string, opts?: DomainMigrateOptions): Promise<void>;
}

// ---------------------------------------------------------------- networks

export interface NetworkSummary {
  name: string;
  uuid: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  bridge?: string;
}

export type NetworkKey = { name: string } | { uuid: string };

export type NetworkUpdateCommand = 'add-last' | 'add-first' | 'delete' | 'modify';
export type NetworkUpdateSection =
  | 'bridge' | 'domain' | 'ip' | 'ip-dhcp-host' | 'ip-dhcp-range' | 'forward' | 'forward-interface'
  | 'forward-pf' | 'portgroup' | 'dns-host' | 'dns-txt' | 'dns-srv';

export interface DhcpLease {
  expiryTime: number;
  mac: string;
  iaid?: string;
  ipaddr: string;
  prefix: number;
  type: 'ipv4' | 'ipv6';
  hostname?: string;
  clientId?: string;
  iface: string;
}

export interface NetworkDriver {
  listNetworks(): Promise<NetworkSummary[]>;
  lookupNetwork(key: NetworkKey): Promise<NetworkSummary>;
  defineNetwork(xml: string, opts?: { validate?: boolean }): Promise<NetworkSummary>;
  createNetwork(xml: string, opts?: { validate?: boolean }): Promise<NetworkSummary>;
  undefineNetwork(uuid: string): Promise<void>;
  startNetwork(uuid: string): Promise<void>;
  destroyNetwork(uuid: string): Promise<void>;
  setNetworkAutostart(uuid: string, autostart: boolean): Promise<void>;
  getNetworkXml(uuid: string, opts?: { inactive?: boolean }): Promise<string>;
  updateNetwork?(
    uuid: string,
    command: NetworkUpdateCommand,
    section: NetworkUpdateSection,
    xml: string,
    opts?: DeviceChangeOptions & { parentIndex?: number },
  ): Promise<void>;
  getDhcpLeases?(uuid: string, mac?: string): Promise<DhcpLease[]>;
}

// ---------------------------------------------------------------- storage

export const POOL_STATES = ['inactive', 'building', 'running', 'degraded', 'inaccessible'] as const;
export type PoolState = (typeof POOL_STATES)[number];

export interface PoolSummary {
  name: string;
  uuid: string;
  type: string;
  state: PoolState;
  persistent: boolean;
  autostart: boolean;
}

export interface PoolInfo {
  state: PoolState;
  /** Bytes. */
  capacity: number;
  allocation: number;
  available: number;
}

export type PoolKey = { name: string } | { uuid: string } | { volumeKey: string };

export interface PoolBuildOptions {
  overwrite?: boolean;
  noOverwrite?: boolean;
}

export type VolumeType = 'file' | 'block' | 'dir' | 'network' | 'netdir' | 'ploop';

export interface VolumeSummary {
  /** The pool's name. */
  pool: string;
  name: string;
  key: string;
  path: string;
  type: VolumeType;
}

export interface VolumeInfo {
  type: VolumeType;
  /** Bytes. */
  capacity: number;
  allocation: number;
  physical?: number;
}

/** A volume by its pool and name, by key, or by path. */
export type VolumeKey = { pool: string; name: string } | { key: string } | { path: string };

export interface VolumeCreateOptions {
  preallocMetadata?: boolean;
  reflink?: boolean;
  validate?: boolean;
}

export interface VolumeResizeOptions {
  allocate?: boolean;
  delta?: boolean;
  shrink?: boolean;
}

export const WIPE_ALGORITHMS = ['zero', 'nnsa', 'dod', 'bsi', 'gutmann', 'schneier', 'pfitzner7', 'pfitzner33', 'random', 'trim'] as const;
export type WipeAlgorithm = (typeof WIPE_ALGORITHMS)[number];

export interface VolumeTransferOptions {
  offset?: number;
  /** 0 = to the end. */
  length?: number;
  /** Keep holes (`--sparse`). */
  sparse?: boolean;
}

export interface StorageDriver {
  listPools(): Promise<PoolSummary[]>;
  lookupPool(key: PoolKey): Promise<PoolSummary>;
  definePool(xml: string, opts?: { validate?: boolean }): Promise<PoolSummary>;
  createPool(xml: string, opts?: PoolBuildOptions & { build?: boolean }): Promise<PoolSummary>;
  undefinePool(uuid: string): Promise<void>;
  buildPool(uuid: string, opts?: PoolBuildOptions, job?: JobContext): Promise<void>;
  startPool(uuid: string, opts?: PoolBuildOptions & { build?: boolean }): Promise<void>;
  destroyPool(uuid: string): Promise<void>;
  deletePool(uuid: string): Promise<void>;
  refreshPool(uuid: string): Promise<void>;
  setPoolAutostart(uuid: string, autostart: boolean): Promise<void>;
  getPoolInfo(uuid: string): Promise<PoolInfo>;
  getPoolXml(uuid: string, opts?: { inactive?: boolean }): Promise<string>;
  findPoolSources?(type: string, srcSpecXml?: string): Promise<string>;

  listVolumes(poolUuid: string): Promise<VolumeSummary[]>;
  lookupVolume(key: VolumeKey): Promise<VolumeSummary>;
  createVolume(poolUuid: string, xml: string, opts?: VolumeCreateOptions, job?: JobContext): Promise<VolumeSummary>;
  createVolumeFrom(poolUuid: string, xml: string, source: VolumeKey, opts?: VolumeCreateOptions, job?: JobContext): Promise<VolumeSummary>;
  deleteVolume(key: VolumeKey, opts?: { deleteSnapshots?: boolean }): Promise<void>;
  resizeVolume?(key: VolumeKey, capacity: number, opts?: VolumeResizeOptions): Promise<void>;
  wipeVolume?(key: VolumeKey, algorithm?: WipeAlgorithm, job?: JobContext): Promise<void>;
  getVolumeInfo(key: VolumeKey): Promise<VolumeInfo>;
  getVolumeXml(key: VolumeKey): Promise<string>;
  uploadVolume?(key: VolumeKey, source: Readable, opts?: VolumeTransferOptions, job?: JobContext): Promise<void>;
  downloadVolume?(key: VolumeKey, opts?: VolumeTransferOptions, job?: JobContext): Promise<Readable>;
}

// ---------------------------------------------------------------- host interfaces

export interface InterfaceSummary {
  name: string;
  mac: string;
  active: boolean;
}

export type InterfaceKey = { name: string } | { mac: string };

export interface InterfaceDriver {
  listInterfaces(): Promise<InterfaceSummary[]>;
  lookupInterface(key: InterfaceKey): Promise<InterfaceSummary>;
  getInterfaceXml(name: string, opts?: { inactive?: boolean }): Promise<string>;
  defineInterface?(xml: string): Promise<InterfaceSummary>;
  undefineInterface?(name: string): Promise<void>;
  startInterface?(name: string): Promise<void>;
  destroyInterface?(name: string): Promise<void>;
}

// ---------------------------------------------------------------- the driver

/** What a hypervisor driver's factory returns. */
export interface HypervisorDriver {
  /** `qemu`, `lxc`, `xen`, `test`, `remote`, or a third party's name. */
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** The URI the driver actually opened (`qemu:///session`, …). */
  readonly uri: string;

  getHostname(): Promise<string>;
  getVersion(): Promise<VersionInfo>;
  /** libvirt's capabilities XML. */
  getCapabilities(): Promise<string>;
  getNodeInfo(): Promise<NodeInfo>;
  /** Free memory in bytes (`freecell`). */
  getFreeMemory?(): Promise<number>;

  readonly domains?: DomainDriver;
  /**
   * Present when the driver manages networks itself (the test driver, the
   * remote driver). Otherwise core attaches the local network driver for
   * the URI's state directories.
   */
  readonly networks?: NetworkDriver;
  readonly storage?: StorageDriver;
  readonly interfaces?: InterfaceDriver;

  close(): Promise<void>;
}

/** What a driver factory gets when a URI is opened. */
export interface DriverOpenContext {
  uri: VirtUri;
  readonly: boolean;
  /** The connection's event bus: drivers emit lifecycle events here. */
  events: EventBus;
  /** Asks the user for a secret (password, passphrase) when a terminal is there. */
  prompt?: (question: string, opts: { secret: boolean }) => Promise<string>;
  /** Loads other plugins (storage backends, network modes) by kind and name. */
  plugins: PluginResolver;
  /** A driver whose link to its hypervisor can break (remote) calls this when it does. */
  connectionLost?: (reason: Error) => void;
}

export type HypervisorDriverFactory = (ctx: DriverOpenContext) => Promise<HypervisorDriver>;

/** Resolves plugins found by the loader, importing only what is asked for. */
export interface PluginResolver {
  /** Storage pool backend for a pool type (`dir`, `fs`, …), or undefined when none is installed. */
  storageBackend(poolType: string): Promise<unknown | undefined>;
  /** Network mode for a forward mode (`nat`, `route`, `open`, `none`, `bridge`). */
  networkMode(mode: string): Promise<unknown | undefined>;
  /** Every installed plugin manifest. */
  list(): PluginManifest[];
}

/** The `virtkit` field of a plugin's package.json. */
export interface PluginManifest {
  /** Package name. */
  name: string;
  version: string;
  /** Folder holding the package.json. */
  dir: string;
  kind: 'hypervisor' | 'storage-backend' | 'network-mode' | 'remote' | 'other';
  /** URI schemes a hypervisor driver opens (`qemu`). */
  schemes?: string[];
  /** Pool types a storage backend implements. */
  poolTypes?: string[];
  /** Forward modes a network mode implements. */
  modes?: string[];
  capabilities?: string[];
  /** Module to import, relative to `dir` (default: the package's main export). */
  entry?: string;
}
