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

/** libvirt's reason enums per state (virDomainRunningReason, …), by name; virsh's wordings as aliases. */
const STATE_REASONS: Record<DomainState, string[]> = {
  nostate: ['unknown'],
  running: ['unknown', 'booted', 'migrated', 'restored', 'fromsnapshot', 'unpaused', 'migrationcanceled', 'savecanceled', 'wakeup', 'crashed', 'postcopy', 'postcopyfailed'],
  blocked: ['unknown'],
  paused: ['unknown', 'user', 'migration', 'save', 'dump', 'ioerror', 'watchdog', 'fromsnapshot', 'shuttingdown', 'snapshot', 'crashed', 'startingup', 'postcopy', 'postcopyfailed', 'apierror'],
  shutdown: ['unknown', 'user'],
  shutoff: ['unknown', 'shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'fromsnapshot', 'daemon'],
  crashed: ['unknown', 'panicked'],
  pmsuspended: ['unknown'],
};
const REASON_ALIASES: Record<string, string> = { migrating: 'migration', saving: 'save', dumping: 'dump', creatingsnapshot: 'snapshot', eventwakeup: 'wakeup' };

/** A state reason as libvirt's number for its state (what `virsh domstats` prints); 0 (unknown) when it has none. */
export function domainStateReasonCode(state: DomainState, reason: string): number {
  const key = reason.toLowerCase().replace(/[^a-z0-9]/g, '');
  const i = STATE_REASONS[state].indexOf(REASON_ALIASES[key] ?? key);
  return i < 0 ? 0 : i;
}

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
  /** `save`, `restore`, `migration-out`, `migration-in`, … */
  operation?: string;
  timeElapsedMs?: number;
  timeRemainingMs?: number;
  dataTotal?: number;
  dataProcessed?: number;
  dataRemaining?: number;
  memTotal?: number;
  memProcessed?: number;
  memRemaining?: number;
  /** Passes over the guest's memory (QEMU's dirty-sync-count). */
  memIteration?: number;
  /** Pages dirtied per second. */
  memDirtyRate?: number;
  /** Bytes per second sent. */
  memBps?: number;
  memPageSize?: number;
  /** Pages sent as zero pages, as whole pages, and the bytes of the latter. */
  memConstant?: number;
  memNormal?: number;
  memNormalBytes?: number;
  /** Pages the destination asked for after the switch to post-copy. */
  memPostcopyReqs?: number;
  /** Disk contents copied with the migration (copy-storage), bytes. */
  diskTotal?: number;
  diskProcessed?: number;
  diskRemaining?: number;
  diskBps?: number;
  expectedDowntimeMs?: number;
  downtimeMs?: number;
  setupTimeMs?: number;
  /** Why a failed job failed. */
  errorMessage?: string;
  [key: string]: string | number | undefined;
}

/** How to migrate (virDomainMigrateFlags and the typed parameters virsh passes). */
export interface MigrationFlags {
  /** Keep the guest running while its memory is copied (without it the guest is paused first). */
  live?: boolean;
  /** Define the domain on the destination. */
  persistent?: boolean;
  /** Remove the definition from the source afterwards. */
  undefineSource?: boolean;
  /** Move only the definition (needs `persistent`); no guest runs anywhere new. */
  offline?: boolean;
  /** Leave the guest paused on the destination (`--suspend`). */
  paused?: boolean;
  /** Copy non-shared disks over NBD: every layer (`all`) or the top one only (`inc`). */
  copyStorage?: 'all' | 'inc';
  /** Send QEMU's migration stream through the daemons' connection (needs `peer2peer`). */
  tunnelled?: boolean;
  /** The source host drives the migration and connects to the destination itself (`--p2p`). */
  peer2peer?: boolean;
  /** Allow switching to post-copy (`migrateStartPostCopy`, or `timeoutAction: 'postcopy'`). */
  postcopy?: boolean;
  /** Switch to post-copy by itself after the first pass over memory. */
  postcopyAfterPrecopy?: boolean;
  /** After this long (ms) of live migration, suspend the guest or switch to post-copy. */
  timeoutMs?: number;
  timeoutAction?: 'suspend' | 'postcopy';
  /** Where the source's QEMU sends the stream (`tcp://host[:port]`, `tcp:host:port`); default the destination's address. */
  migrateUri?: string;
  /** Address the destination listens on for the stream (default all of them). */
  listenAddress?: string;
  /** Bandwidth limit, MiB/s (default none). */
  bandwidth?: number;
  /** Migrate even when disks are neither shared nor copied. */
  unsafe?: boolean;
  /** QEMU's auto-converge (throttles the guest's CPUs while it does not converge). */
  autoConverge?: boolean;
  /** XBZRLE compression of repeatedly dirtied pages. */
  compressed?: boolean;
  /** Domain XML to run on the destination (same guest, other host paths). */
  xml?: string;
  /** Definition to keep on the destination with `persistent` (default: the source's). */
  persistentXml?: string;
}

export interface DomainMigrateOptions extends JobContext, MigrationFlags {}

/** A disk whose contents move with the migration (`copyStorage`). */
export interface MigrationDiskInfo {
  /** `vda`. */
  target: string;
  /** Image format (`qcow2`, `raw`). */
  format?: string;
  /** Virtual size in bytes. */
  capacity: number;
  source: { type: 'file' | 'block'; path: string } | { type: 'volume'; pool: string; volume: string };
}

/**
 * What the source tells the destination (libvirt's migration cookie), as
 * JSON: who sends, which disks follow, what to keep as the definition.
 */
export interface MigrationCookie {
  name: string;
  uuid: string;
  /** The source's host name. */
  hostname: string;
  /** The domain's inactive definition, made persistent at finish with `persistent`. */
  persistentXml?: string;
  /** Disks copied over NBD. */
  disks?: MigrationDiskInfo[];
  /** The guest's state when the migration began. */
  wasRunning?: boolean;
}

/** The begin phase's answer (virDomainMigrateBegin3): the XML to start on the destination and the cookie. */
export interface MigrationBegun {
  xml: string;
  cookie: MigrationCookie;
}

export interface MigrationPrepareParams {
  flags: MigrationFlags;
  cookie: MigrationCookie;
}

/** The prepare phase's answer: where the incoming QEMU listens. */
export interface MigrationPrepared {
  /** The destination's host name. */
  hostname: string;
  /** TCP port of the incoming migration (absent when tunnelled or offline). */
  port?: number;
  /** Host the incoming QEMU listens on (`0.0.0.0` for all). */
  listenAddress?: string;
  /** TCP port of the NBD server receiving copied disks. */
  nbdPort?: number;
}

export interface MigrationPerformParams {
  flags: MigrationFlags;
  cookie: MigrationCookie;
  /** `tcp:host:port` of the incoming QEMU (direct migration). */
  uri?: string;
  /** The NBD server for copied disks. */
  nbd?: { host: string; port: number };
  /**
   * Tunnelled migration, in the process that drives it only (not sent over
   * the wire): hands QEMU's outgoing stream to the destination and
   * resolves once the destination consumed it.
   */
  tunnel?: (data: Readable) => Promise<void>;
}

/** What the source sends on to the destination after the perform phase. */
export interface MigrationPerformed {
  /** The job's statistics at the end (downtime included). */
  stats: DomainJobInfo;
  /** The migration is in post-copy: the destination must resume the guest now. */
  postcopy?: boolean;
}

export interface MigrationFinishParams {
  flags: MigrationFlags;
  cookie: MigrationCookie;
  /** The migration failed or was aborted: remove everything prepare made. */
  cancelled: boolean;
  stats?: DomainJobInfo;
}

export interface MigrationConfirmParams {
  flags: MigrationFlags;
  /** The migration failed: cancel what runs and let the guest go on here. */
  cancelled: boolean;
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
  /**
   * libvirt-qemu's virDomainQemuMonitorCommand: a QMP command (JSON) passed
   * to the running guest's monitor, answered with QEMU's reply as JSON; with
   * `hmp`, a human monitor command line answered with its text. Capability
   * `qemu.monitor-command`.
   */
  qemuMonitorCommand?(uuid: string, command: string, opts?: { hmp?: boolean }): Promise<string>;
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
  getJobInfo?(uuid: string, opts?: { completed?: boolean }): Promise<DomainJobInfo>;
  abortJob?(uuid: string): Promise<void>;
  /** Peer-to-peer migration: this driver's host connects to `destUri` and runs every phase (virDomainMigrateToURI3). */
  migrate?(uuid: string, destUri: string, opts?: MigrationFlags, job?: JobContext): Promise<void>;
  // The phases of libvirt's migration protocol v3 (see migration.ts and docs/migration.md).
  /** Source: checks the domain can go and returns the XML to start there and the cookie. */
  migrateBegin?(uuid: string, flags: MigrationFlags): Promise<MigrationBegun>;
  /** Destination: starts the incoming guest (paused, waiting for the stream). */
  migratePrepare?(xml: string, params: MigrationPrepareParams): Promise<MigrationPrepared>;
  /** Destination, tunnelled: feeds the migration stream to the incoming guest; resolves once all of it is in. */
  migrateIncoming?(uuid: string, data: Readable, opts?: Record<string, unknown>, job?: JobContext): Promise<void>;
  /** Source: copies disks and memory; resolves when the destination has everything (or post-copy runs). */
  migratePerform?(uuid: string, params: MigrationPerformParams, job?: JobContext): Promise<MigrationPerformed>;
  /** Destination: resumes the guest (and defines it), or with `cancelled` removes everything prepare made. */
  migrateFinish?(uuid: string, params: MigrationFinishParams): Promise<DomainSummary | null>;
  /** Source: ends the source guest (and undefines it), or with `cancelled` lets it run on here. */
  migrateConfirm?(uuid: string, params: MigrationConfirmParams): Promise<void>;
  /** Switches a running migration to post-copy (virDomainMigrateStartPostCopy). */
  migrateStartPostCopy?(uuid: string): Promise<void>;
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

  /**
   * Starts the guests marked autostart that are not running, as libvirt's
   * daemon does when it starts. virtkitd calls it the first time it opens
   * the driver's URI. Like libvirt (virDriverShouldAutostart), a driver
   * does this once per host boot, remembered in its runtime folder, and
   * returns `undefined` when it already has. Optional.
   */
  startAutostart?(): Promise<AutostartReport | undefined>;

  close(): Promise<void>;
}

/** What `startAutostart` did: one guest failing does not stop the others. */
export interface AutostartReport {
  /** Names of the guests started. */
  started: string[];
  failed: Array<{ name: string; error: string }>;
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
