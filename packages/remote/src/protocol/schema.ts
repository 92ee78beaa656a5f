/**
 * The procedure table of the virtkit wire protocol: one row per driver
 * method that crosses the wire. The client driver's methods and the
 * daemon's dispatch (argument checks, read-only refusal, job locks,
 * streams) are both made from it; docs/protocol.md lists it.
 *
 * A procedure's name is `<target>.<method>`, where target is the part of a
 * HypervisorDriver it calls (`host` is the driver object itself).
 */

export type Target = 'host' | 'domains' | 'networks' | 'storage' | 'interfaces';

/**
 * What an argument is. The daemon checks every argument against its kind
 * before a driver sees it; a `?` suffix makes it optional.
 *
 * - `uuid`: a UUID string · `name`: a non-empty string without NUL (≤ 1024)
 * - `string`: any string (≤ the frame limit) · `xml`: a non-empty XML string
 * - `path`: an absolute path · `count`: a non-negative safe integer
 * - `number`: a finite number · `bool`: true/false
 * - `opts`: a plain JSON object of options · `strings`: an array of strings
 * - `domainKey` / `networkKey` / `poolKey` / `volumeKey` / `interfaceKey`:
 *   the lookup key objects of driver.ts
 * - `job`: a JobContext: never sent as data; the call carries progress
 *   frames back and a CANCEL frame fires its AbortSignal
 * - `source`: a Readable the client uploads: sent as the call's stream
 */
export type ArgKind =
  | 'uuid' | 'name' | 'string' | 'xml' | 'path' | 'count' | 'number' | 'bool' | 'opts' | 'strings'
  | 'domainKey' | 'networkKey' | 'poolKey' | 'volumeKey' | 'interfaceKey' | 'job' | 'source';
export type ArgSpec = ArgKind | `${ArgKind}?`;

/** How a result crosses: JSON (default), a byte stream the client reads, or a two-way byte stream. */
export type ResultKind = 'json' | 'readable' | 'duplex';

export interface Procedure {
  /** `domains.startDomain`. */
  readonly name: string;
  readonly target: Target;
  readonly method: string;
  readonly args: readonly ArgSpec[];
  /** Changes state: refused on read-only connections, serialised by the object's job lock. */
  readonly modify: boolean;
  /** Job-lock key for changes, from the checked arguments (the same keys core's Connection uses). */
  readonly lock?: (args: readonly unknown[]) => string;
  /** The driver may lack the method (an optional member of the driver contract). */
  readonly optional: boolean;
  readonly result: ResultKind;
}

interface Row {
  args: ArgSpec[];
  modify?: boolean;
  lock?: (args: readonly unknown[]) => string;
  optional?: boolean;
  result?: ResultKind;
}

const byUuid = (prefix = '') => (a: readonly unknown[]) => `${prefix}${String(a[0])}`;
const byVolume = (a: readonly unknown[]) => `vol:${JSON.stringify(a[0])}`;

// The order of rows does not matter on the wire (procedures are named).
const ROWS: Record<Target, Record<string, Row>> = {
  host: {
    getHostname: { args: [] },
    getVersion: { args: [] },
    getCapabilities: { args: [] },
    getNodeInfo: { args: [] },
    getFreeMemory: { args: [], optional: true },
  },
  domains: {
    listDomains: { args: [] },
    lookupDomain: { args: ['domainKey'] },
    defineDomain: { args: ['xml', 'opts?'], modify: true, lock: () => 'define' },
    undefineDomain: { args: ['uuid', 'opts?'], modify: true, lock: byUuid() },
    createDomain: { args: ['xml', 'opts?'], modify: true, lock: () => 'define' },
    startDomain: { args: ['uuid', 'opts?'], modify: true, lock: byUuid() },
    shutdownDomain: { args: ['uuid', 'opts?'], modify: true, lock: byUuid(), optional: true },
    destroyDomain: { args: ['uuid', 'opts?'], modify: true, lock: byUuid() },
    rebootDomain: { args: ['uuid', 'opts?'], modify: true, lock: byUuid(), optional: true },
    resetDomain: { args: ['uuid'], modify: true, lock: byUuid(), optional: true },
    suspendDomain: { args: ['uuid'], modify: true, lock: byUuid(), optional: true },
    resumeDomain: { args: ['uuid'], modify: true, lock: byUuid(), optional: true },
    saveDomain: { args: ['uuid', 'path', 'opts?', 'job?'], modify: true, lock: byUuid(), optional: true },
    restoreDomain: { args: ['path', 'opts?', 'job?'], modify: true, lock: (a) => `restore:${String(a[0])}`, optional: true },
    managedSaveDomain: { args: ['uuid', 'opts?', 'job?'], modify: true, lock: byUuid(), optional: true },
    removeManagedSave: { args: ['uuid'], modify: true, lock: byUuid(), optional: true },
    setAutostart: { args: ['uuid', 'bool'], modify: true, lock: byUuid(), optional: true },
    getXml: { args: ['uuid', 'opts?'] },
    getInfo: { args: ['uuid'] },
    getState: { args: ['uuid'] },
    getStats: { args: ['uuid', 'strings?'], optional: true },
    attachDevice: { args: ['uuid', 'xml', 'opts?'], modify: true, lock: byUuid(), optional: true },
    detachDevice: { args: ['uuid', 'xml', 'opts?'], modify: true, lock: byUuid(), optional: true },
    updateDevice: { args: ['uuid', 'xml', 'opts?'], modify: true, lock: byUuid(), optional: true },
    qemuMonitorCommand: { args: ['uuid', 'string', 'opts?'], modify: true, lock: byUuid(), optional: true },
    setMemory: { args: ['uuid', 'count', 'opts?'], modify: true, lock: byUuid(), optional: true },
    setVcpus: { args: ['uuid', 'count', 'opts?'], modify: true, lock: byUuid(), optional: true },
    getSchedulerParams: { args: ['uuid', 'opts?'], optional: true },
    setSchedulerParams: { args: ['uuid', 'opts', 'opts?'], modify: true, lock: byUuid(), optional: true },
    // A console changes nothing by itself; core's wrapper does not lock it either.
    openConsole: { args: ['uuid', 'opts?'], optional: true, result: 'duplex' },
    xmlToNative: { args: ['name', 'xml'], optional: true },
    xmlFromNative: { args: ['name', 'string'], optional: true },
    getJobInfo: { args: ['uuid', 'opts?'], optional: true },
    // Abort must not wait for the lock held by the job it aborts.
    abortJob: { args: ['uuid'], optional: true },
    // Peer-to-peer: the daemon's host drives the migration (the options without the job context, then the job).
    migrate: { args: ['uuid', 'name', 'opts?', 'job?'], modify: true, lock: byUuid(), optional: true },
    // libvirt's migration protocol v3, one row per phase (docs/migration.md). A prepare is held
    // for the session that made it until it calls finish (daemon/migration-leases.ts).
    migrateBegin: { args: ['uuid', 'opts'], modify: true, lock: byUuid(), optional: true },
    migratePrepare: { args: ['xml', 'opts'], modify: true, lock: () => 'define', optional: true },
    // The tunnelled stream runs beside the source's control calls: a lock of its own.
    migrateIncoming: { args: ['uuid', 'source', 'opts?', 'job?'], modify: true, lock: byUuid('migrate-in:'), optional: true },
    migratePerform: { args: ['uuid', 'opts', 'job?'], modify: true, lock: byUuid(), optional: true },
    migrateFinish: { args: ['uuid', 'opts'], modify: true, lock: byUuid(), optional: true },
    migrateConfirm: { args: ['uuid', 'opts'], modify: true, lock: byUuid(), optional: true },
    // Acts on the running migration, whose job holds the domain's lock.
    migrateStartPostCopy: { args: ['uuid'], modify: true, optional: true },
  },
  networks: {
    listNetworks: { args: [] },
    lookupNetwork: { args: ['networkKey'] },
    defineNetwork: { args: ['xml', 'opts?'], modify: true, lock: () => 'network-define' },
    createNetwork: { args: ['xml', 'opts?'], modify: true, lock: () => 'network-define' },
    undefineNetwork: { args: ['uuid'], modify: true, lock: byUuid('network:') },
    startNetwork: { args: ['uuid'], modify: true, lock: byUuid('network:') },
    destroyNetwork: { args: ['uuid'], modify: true, lock: byUuid('network:') },
    setNetworkAutostart: { args: ['uuid', 'bool'], modify: true, lock: byUuid('network:') },
    getNetworkXml: { args: ['uuid', 'opts?'] },
    updateNetwork: { args: ['uuid', 'name', 'name', 'xml', 'opts?'], modify: true, lock: byUuid('network:'), optional: true },
    getDhcpLeases: { args: ['uuid', 'string?'], optional: true },
  },
  storage: {
    listPools: { args: [] },
    lookupPool: { args: ['poolKey'] },
    definePool: { args: ['xml', 'opts?'], modify: true, lock: () => 'pool-define' },
    createPool: { args: ['xml', 'opts?'], modify: true, lock: () => 'pool-define' },
    undefinePool: { args: ['uuid'], modify: true, lock: byUuid('pool:') },
    buildPool: { args: ['uuid', 'opts?', 'job?'], modify: true, lock: byUuid('pool:') },
    startPool: { args: ['uuid', 'opts?'], modify: true, lock: byUuid('pool:') },
    destroyPool: { args: ['uuid'], modify: true, lock: byUuid('pool:') },
    deletePool: { args: ['uuid'], modify: true, lock: byUuid('pool:') },
    refreshPool: { args: ['uuid'], modify: true, lock: byUuid('pool:') },
    setPoolAutostart: { args: ['uuid', 'bool'], modify: true, lock: byUuid('pool:') },
    getPoolInfo: { args: ['uuid'] },
    getPoolXml: { args: ['uuid', 'opts?'] },
    findPoolSources: { args: ['name', 'xml?'], optional: true },
    listVolumes: { args: ['uuid'] },
    lookupVolume: { args: ['volumeKey'] },
    createVolume: { args: ['uuid', 'xml', 'opts?', 'job?'], modify: true, lock: byUuid('pool:') },
    createVolumeFrom: { args: ['uuid', 'xml', 'volumeKey', 'opts?', 'job?'], modify: true, lock: byUuid('pool:') },
    deleteVolume: { args: ['volumeKey', 'opts?'], modify: true, lock: byVolume },
    resizeVolume: { args: ['volumeKey', 'number', 'opts?'], modify: true, lock: byVolume, optional: true },
    wipeVolume: { args: ['volumeKey', 'name?', 'job?'], modify: true, lock: byVolume, optional: true },
    getVolumeInfo: { args: ['volumeKey'] },
    getVolumeXml: { args: ['volumeKey'] },
    uploadVolume: { args: ['volumeKey', 'source', 'opts?', 'job?'], modify: true, lock: byVolume, optional: true },
    downloadVolume: { args: ['volumeKey', 'opts?', 'job?'], optional: true, result: 'readable' },
  },
  interfaces: {
    listInterfaces: { args: [] },
    lookupInterface: { args: ['interfaceKey'] },
    getInterfaceXml: { args: ['name', 'opts?'] },
    defineInterface: { args: ['xml'], modify: true, lock: () => 'interface-define', optional: true },
    undefineInterface: { args: ['name'], modify: true, lock: (a) => `iface:${String(a[0])}`, optional: true },
    startInterface: { args: ['name'], modify: true, lock: (a) => `iface:${String(a[0])}`, optional: true },
    destroyInterface: { args: ['name'], modify: true, lock: (a) => `iface:${String(a[0])}`, optional: true },
  },
};

function build(): Map<string, Procedure> {
  const out = new Map<string, Procedure>();
  for (const [target, rows] of Object.entries(ROWS) as [Target, Record<string, Row>][]) {
    for (const [method, row] of Object.entries(rows)) {
      const name = `${target}.${method}`;
      out.set(name, {
        name,
        target,
        method,
        args: row.args,
        modify: !!row.modify,
        optional: !!row.optional,
        result: row.result ?? 'json',
        ...(row.lock ? { lock: row.lock } : {}),
      });
    }
  }
  return out;
}

/** Every procedure, by name. */
export const PROCEDURES: ReadonlyMap<string, Procedure> = build();

/** The procedures of one target, in table order. */
export function proceduresOf(target: Target): Procedure[] {
  return [...PROCEDURES.values()].filter((p) => p.target === target);
}

/**
 * Calls that are not driver methods: they set up the session.
 * `connect.open` `{ uri, readonly }` → OpenReply; `connect.close` → null.
 */
export const SESSION_PROCEDURES = ['connect.open', 'connect.close'] as const;

/** What `connect.open` answers: enough for the client to build its driver object. */
export interface OpenReply {
  /** The URI the daemon's driver opened, as the client should show it. */
  uri: string;
  /** The daemon-side driver's name (`qemu`, `test`, …). */
  driver: string;
  capabilities: string[];
  /** Which targets the daemon-side connection has, and which optional methods each implements. */
  targets: Partial<Record<Target, string[]>>;
  /** Whether the session is read-only (a read-only socket or a read-only open). */
  readonly: boolean;
}

/** The protocol version this build speaks; HELLO carries it. */
export const PROTOCOL_VERSION = 1;
/** Bytes a stream receiver accepts before it grants more (per direction, per stream). */
export const STREAM_WINDOW = 1024 * 1024;
/** Largest DATA payload a sender puts in one frame. */
export const STREAM_CHUNK = 256 * 1024;
/** Largest frame of an established connection (a 10 MiB XML document escaped into JSON fits). */
export const MAX_FRAME = 32 * 1024 * 1024;
/** Largest frame before the handshake is done. */
export const MAX_HELLO_FRAME = 64 * 1024;
