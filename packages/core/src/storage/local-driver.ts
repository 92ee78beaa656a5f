import { mkdir, open, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type {
  JobContext,
  PluginResolver,
  PoolBuildOptions,
  PoolInfo,
  PoolKey,
  PoolSummary,
  StorageDriver,
  VolumeCreateOptions,
  VolumeInfo,
  VolumeKey,
  VolumeResizeOptions,
  VolumeSummary,
  VolumeTransferOptions,
  WipeAlgorithm,
} from '../driver.js';
import { WIPE_ALGORITHMS } from '../driver.js';
import { VirtError } from '../errors.js';
import { poolEvent, type EventBus, type PoolEventType } from '../events.js';
import { formatStoragePoolXml, parseStoragePoolXml, type StoragePoolDef } from '../models/storage/pool.js';
import { formatStorageVolXml, parseStorageVolXml, type StorageVolDef } from '../models/storage/volume.js';
import { stateDirsFor } from '../paths.js';
import type { VirtUri } from '../uri.js';
import { isStoragePoolBackend, type StoragePoolBackend, type StoragePoolObject, type VolumeDiskSource } from './backend.js';
import { checkPoolName, checkVolumeName } from './names.js';
import { fileInUse } from './open-files.js';
import { PoolStore, type PoolRuntimeState } from './pool-store.js';
import { poolSourcesConflict } from './source-conflicts.js';
import { defaultVolumeDiskSource } from './volume-disk.js';
import { VolumeJobs } from './volume-jobs.js';

export interface LocalStorageDriverOptions {
  events: EventBus;
  plugins: PluginResolver;
  /** Backends to use instead of (or before) installed plugins, by pool type. */
  backends?: Record<string, StoragePoolBackend>;
  /** How long a call waits for another process holding a pool's lock (ms). */
  lockTimeoutMs?: number;
  /** Start the pools marked autostart the first time the runtime folder is seen (default true). */
  autostart?: boolean;
  /**
   * Refuse to delete, wipe or shrink a volume in use by a process:
   * `locks` (default) looks for locks on it (QEMU locks the images it
   * opens; cheap), `all` also walks every process's open files, `false`
   * checks nothing.
   */
  checkOpenFiles?: 'locks' | 'all' | false;
}

/** The npm package that holds the backend of a pool type. */
export function storageBackendPackage(type: string): string {
  return `@virtkit/storage-${type === 'iscsi-direct' ? 'iscsi' : type}`;
}

interface PoolEntry {
  name: string;
  uuid: string;
  type: string;
  /** The persistent definition, when the pool is defined. */
  config?: StoragePoolDef;
  /** The runtime state, when the pool is active. */
  state?: PoolRuntimeState;
}

const ORIGIN = 'storage';

function poolError(code: VirtError['code'], message: string, cause?: unknown): VirtError {
  return new VirtError(code, message, { origin: ORIGIN, ...(cause !== undefined ? { cause } : {}) });
}

function withOperation(job: JobContext | undefined, operation: string): JobContext {
  const out: JobContext = {};
  if (job?.signal) out.signal = job.signal;
  const report = job?.onProgress;
  if (report) {
    out.onProgress = (p) => {
      try {
        report({ ...p, operation });
      } catch {
        // A failing listener must not break the job.
      }
    };
  }
  return out;
}

function toNumber(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n < 0n ? 0n : n);
}

function cloneVol(vol: StorageVolDef): StorageVolDef {
  return { ...vol, extents: vol.extents.map((e) => ({ ...e })), target: { ...vol.target, perms: { ...vol.target.perms } } };
}

/**
 * The storage driver of local URIs (`qemu:///system`, `lxc:///session`,
 * `…:///embed?root=DIR`): libvirt's storage driver (storage_driver.c) over
 * pluggable pool backends. Definitions and state live in files, so every
 * process that opens the URI sees the same pools; changes take a
 * cross-process lock per pool; volume jobs are visible to other processes
 * so a volume being built or read is not deleted under it.
 */
export class LocalStorageDriver implements StorageDriver {
  readonly store: PoolStore;
  private readonly jobs: VolumeJobs;
  private readonly events: EventBus;
  private readonly plugins: PluginResolver;
  private readonly backends = new Map<string, Promise<StoragePoolBackend>>();
  private readonly defCache = new Map<string, { key: string; def: StoragePoolDef }>();

  constructor(readonly uri: VirtUri, private readonly opts: LocalStorageDriverOptions) {
    this.store = new PoolStore(stateDirsFor(uri), opts.lockTimeoutMs);
    this.jobs = new VolumeJobs(this.store.jobsDir);
    this.events = opts.events;
    this.plugins = opts.plugins;
  }

  // ------------------------------------------------------------ helpers

  /** The backend of a pool type, loaded once. */
  backendFor(type: string): Promise<StoragePoolBackend> {
    let p = this.backends.get(type);
    if (!p) {
      p = (async () => {
        const given = this.opts.backends?.[type];
        if (given) return given;
        const loaded = await this.plugins.storageBackend(type);
        if (loaded === undefined) {
          throw poolError('NO_SUPPORT', `no storage backend for pool type '${type}' is installed (install ${storageBackendPackage(type)})`);
        }
        if (!isStoragePoolBackend(loaded)) {
          throw poolError('NO_SUPPORT', `the storage backend plugin for pool type '${type}' does not provide a pool backend`);
        }
        return loaded;
      })();
      p.catch(() => this.backends.delete(type));
      this.backends.set(type, p);
    }
    return p;
  }

  private emit(type: PoolEventType, e: { name: string; uuid: string }): void {
    this.events.emit(poolEvent(type, e));
  }

  private liveDef(state: PoolRuntimeState): StoragePoolDef {
    const key = `${state.uuid}:${state.generation}:${state.xml.length}`;
    const hit = this.defCache.get(state.name);
    if (hit && hit.key === key) return hit.def;
    const def = parseStoragePoolXml(state.xml);
    def.capacity = state.capacity;
    def.allocation = state.allocation;
    def.available = state.available;
    this.defCache.set(state.name, { key, def });
    return def;
  }

  private async loadConfig(name: string): Promise<StoragePoolDef | undefined> {
    const xml = await this.store.readConfig(name);
    if (xml === undefined) return undefined;
    const key = `config:${xml}`;
    const hit = this.defCache.get(`config:${name}`);
    if (hit && hit.key === key) return hit.def;
    let def: StoragePoolDef;
    try {
      def = parseStoragePoolXml(xml);
    } catch (err) {
      throw poolError('INTERNAL_ERROR', `storage pool '${name}': the definition ${this.store.configPath(name)} cannot be read: ${(err as Error).message}`, err);
    }
    this.defCache.set(`config:${name}`, { key, def });
    return def;
  }

  private async entry(name: string): Promise<PoolEntry | undefined> {
    const [config, state] = await Promise.all([this.loadConfig(name), this.store.readState(name)]);
    if (!config && !state) return undefined;
    const uuid = state?.uuid ?? config!.uuid;
    const type = state?.type ?? config!.type;
    return { name, uuid, type, ...(config ? { config } : {}), ...(state ? { state } : {}) };
  }

  private async allEntries(): Promise<PoolEntry[]> {
    const names = new Set([...(await this.store.configNames()), ...(await this.store.stateNames())]);
    const out: PoolEntry[] = [];
    for (const n of [...names].sort()) {
      const e = await this.entry(n);
      if (e) out.push(e);
    }
    return out;
  }

  private async findPool(key: { name: string } | { uuid: string }): Promise<PoolEntry> {
    if ('name' in key) {
      const e = typeof key.name === 'string' && !key.name.includes('/') && key.name !== '.' && key.name !== '..' && key.name !== '' ? await this.entry(key.name) : undefined;
      if (!e) throw poolError('NO_STORAGE_POOL', `storage pool not found: no storage pool with matching name '${key.name}'`);
      return e;
    }
    const uuid = key.uuid.toLowerCase();
    for (const e of await this.allEntries()) if (e.uuid === uuid) return e;
    throw poolError('NO_STORAGE_POOL', `storage pool not found: no storage pool with matching uuid '${key.uuid}'`);
  }

  private def(e: PoolEntry): StoragePoolDef {
    return e.state ? this.liveDef(e.state) : e.config!;
  }

  private async summary(e: PoolEntry): Promise<PoolSummary> {
    return {
      name: e.name,
      uuid: e.uuid,
      type: e.type,
      state: e.state ? 'running' : 'inactive',
      persistent: !!e.config,
      autostart: e.config ? await this.store.isAutostart(e.name) : false,
    };
  }

  private poolObject(def: StoragePoolDef, state: PoolRuntimeState | undefined): StoragePoolObject {
    return { def, state: state?.backend ?? {}, scratchDir: this.store.scratchDir(def.name) };
  }

  private async activeEntry(key: { name: string } | { uuid: string }): Promise<PoolEntry & { state: PoolRuntimeState }> {
    const e = await this.findPool(key);
    if (!e.state) throw poolError('OPERATION_INVALID', `storage pool '${e.name}' is not active`);
    return e as PoolEntry & { state: PoolRuntimeState };
  }

  private async refuseAsyncJobs(name: string): Promise<void> {
    const jobs = await this.jobs.list(name);
    if (jobs.length) {
      throw poolError('OPERATION_INVALID', `pool '${name}' has asynchronous jobs running (${jobs.map((j) => `${j.job} of volume '${j.volume}'`).join(', ')})`);
    }
  }

  /** Reads sizes and volumes into a fresh runtime state. */
  private async refreshInto(backend: StoragePoolBackend, obj: StoragePoolObject, state: PoolRuntimeState): Promise<void> {
    const r = await backend.refreshPool(obj, {});
    const seen = new Set<string>();
    const volumes: StorageVolDef[] = [];
    for (const v of r.volumes) {
      if (seen.has(v.name)) continue;
      seen.add(v.name);
      v.key ??= v.target.path ?? v.name;
      volumes.push(v);
    }
    volumes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    state.capacity = r.capacity;
    state.allocation = r.allocation;
    state.available = r.available;
    state.volumes = volumes;
    state.backend = obj.state;
  }

  // ------------------------------------------------------------ pools

  async listPools(): Promise<PoolSummary[]> {
    const out: PoolSummary[] = [];
    for (const e of await this.allEntries()) out.push(await this.summary(e));
    return out;
  }

  async lookupPool(key: PoolKey): Promise<PoolSummary> {
    if ('volumeKey' in key) {
      const { entry } = await this.findVolume({ key: key.volumeKey });
      return this.summary(entry);
    }
    return this.summary(await this.findPool(key));
  }

  private parseDef(xml: string): StoragePoolDef {
    const def = parseStoragePoolXml(xml);
    checkPoolName(def.name);
    return def;
  }

  /** libvirt's virStoragePoolObjIsDuplicate + SourceFindDuplicate, against every other pool. */
  private async checkDuplicates(def: StoragePoolDef, checkActive: boolean): Promise<PoolEntry | undefined> {
    const all = await this.allEntries();
    const byUuid = all.find((e) => e.uuid === def.uuid);
    if (byUuid && byUuid.name !== def.name) {
      throw poolError('OPERATION_FAILED', `pool '${byUuid.name}' is already defined with uuid ${byUuid.uuid}`);
    }
    const byName = all.find((e) => e.name === def.name);
    if (!byUuid && byName) throw poolError('OPERATION_FAILED', `pool '${def.name}' already exists with uuid ${byName.uuid}`);
    if (byUuid && checkActive && byUuid.state) throw poolError('OPERATION_INVALID', `pool is already active as '${byUuid.name}'`);
    for (const e of all) {
      if (e.name === def.name) continue;
      if (poolSourcesConflict(this.def(e), def)) throw poolError('OPERATION_FAILED', `Storage source conflict with pool: '${e.name}'`);
    }
    return byUuid;
  }

  async definePool(xml: string): Promise<PoolSummary> {
    const def = this.parseDef(xml);
    await this.backendFor(def.type);
    const e = await this.store.withListLock(`define '${def.name}'`, async () => {
      await this.checkDuplicates(def, false);
      await this.store.writeConfig(def.name, formatStoragePoolXml({ ...def, capacity: 0n, allocation: 0n, available: 0n }));
      // Defining an active transient pool makes it persistent.
      await this.store.withPoolLock(def.name, 'define', async () => {
        const st = await this.store.readStateForUpdate(def.name);
        if (st?.transient) {
          st.transient = false;
          await this.store.writeState(st);
        }
      });
      return (await this.entry(def.name))!;
    });
    this.emit('defined', e);
    return this.summary(e);
  }

  async createPool(xml: string, opts: PoolBuildOptions & { build?: boolean } = {}): Promise<PoolSummary> {
    const def = this.parseDef(xml);
    const backend = await this.backendFor(def.type);
    await this.store.withListLock(`create '${def.name}'`, async () => {
      const existing = await this.checkDuplicates(def, true);
      await this.store.withPoolLock(def.name, 'create', () => this.startLocked(backend, def, !existing?.config, opts));
    });
    const e = (await this.entry(def.name))!;
    this.emit('started', e);
    return this.summary(e);
  }

  /** Builds (when asked), starts and refreshes a pool, and writes its state; undoes the start when the refresh fails. */
  private async startLocked(backend: StoragePoolBackend, def: StoragePoolDef, transient: boolean, opts: PoolBuildOptions & { build?: boolean }): Promise<void> {
    const obj = this.poolObject(def, undefined);
    await mkdir(obj.scratchDir, { recursive: true });
    if (backend.buildPool && (opts.build || opts.overwrite || opts.noOverwrite)) {
      await backend.buildPool(obj, { ...(opts.overwrite ? { overwrite: true } : {}), ...(opts.noOverwrite ? { noOverwrite: true } : {}) }, {});
    }
    if (backend.startPool) await backend.startPool(obj);
    const state: PoolRuntimeState = {
      version: 1,
      name: def.name,
      uuid: def.uuid,
      type: def.type,
      transient,
      xml: formatStoragePoolXml({ ...def, capacity: 0n, allocation: 0n, available: 0n }),
      backend: obj.state,
      capacity: 0n,
      allocation: 0n,
      available: 0n,
      volumes: [],
      generation: 0,
    };
    try {
      await this.refreshInto(backend, obj, state);
      await this.store.writeState(state);
    } catch (err) {
      if (backend.stopPool) await backend.stopPool(obj).catch(() => {});
      await this.store.removeState(def.name);
      throw err;
    }
  }

  async undefinePool(uuid: string): Promise<void> {
    const e = await this.findPool({ uuid });
    await this.store.withListLock(`undefine '${e.name}'`, () =>
      this.store.withPoolLock(e.name, 'undefine', async () => {
        const cur = await this.entry(e.name);
        if (!cur?.config) throw poolError('OPERATION_INVALID', `storage pool '${e.name}' is not persistent`);
        if (cur.state) throw poolError('OPERATION_INVALID', `storage pool '${e.name}' is still active`);
        await this.refuseAsyncJobs(e.name);
        await this.store.removeConfig(e.name);
      }),
    );
    this.emit('undefined', e);
  }

  async buildPool(uuid: string, opts: PoolBuildOptions = {}, job?: JobContext): Promise<void> {
    const e = await this.findPool({ uuid });
    const backend = await this.backendFor(e.type);
    await this.store.withPoolLock(e.name, 'build', async () => {
      const cur = (await this.entry(e.name))!;
      if (cur.state) throw poolError('OPERATION_INVALID', `storage pool '${e.name}' is already active`);
      if (backend.buildPool) await backend.buildPool(this.poolObject(cur.config!, undefined), opts, withOperation(job, 'pool-build'));
    });
    this.emit('created', e);
  }

  async startPool(uuid: string, opts: PoolBuildOptions & { build?: boolean } = {}): Promise<void> {
    const e = await this.findPool({ uuid });
    const backend = await this.backendFor(e.type);
    await this.store.withPoolLock(e.name, 'start', async () => {
      const cur = (await this.entry(e.name))!;
      if (cur.state) throw poolError('OPERATION_INVALID', `storage pool '${e.name}' is already active`);
      await this.startLocked(backend, cur.config!, false, opts);
    });
    this.emit('started', e);
  }

  async destroyPool(uuid: string): Promise<void> {
    const e = await this.findPool({ uuid });
    const backend = await this.backendFor(e.type);
    let transient = false;
    await this.store.withPoolLock(e.name, 'destroy', async () => {
      const st = await this.store.readStateForUpdate(e.name);
      if (!st) throw poolError('OPERATION_INVALID', `storage pool '${e.name}' is not active`);
      await this.refuseAsyncJobs(e.name);
      if (backend.stopPool) await backend.stopPool(this.poolObject(this.liveDef(st), st));
      await this.store.removeState(e.name);
      await rm(this.store.scratchDir(e.name), { recursive: true, force: true }).catch(() => {});
      transient = st.transient;
    });
    this.emit('stopped', e);
    if (transient) this.emit('undefined', e);
  }

  async deletePool(uuid: string): Promise<void> {
    const e = await this.findPool({ uuid });
    const backend = await this.backendFor(e.type);
    await this.store.withPoolLock(e.name, 'delete', async () => {
      const cur = (await this.entry(e.name))!;
      if (cur.state) throw poolError('OPERATION_INVALID', `storage pool '${e.name}' is still active`);
      await this.refuseAsyncJobs(e.name);
      if (!backend.deletePool) throw poolError('NO_SUPPORT', `storage pool '${e.name}': pool type '${e.type}' does not support pool deletion`);
      await backend.deletePool(this.poolObject(cur.config!, undefined), {});
    });
    this.emit('deleted', e);
  }

  async refreshPool(uuid: string): Promise<void> {
    const e = await this.findPool({ uuid });
    const backend = await this.backendFor(e.type);
    let stopped = false;
    await this.store.withPoolLock(e.name, 'refresh', async () => {
      const st = await this.store.readStateForUpdate(e.name);
      if (!st) throw poolError('OPERATION_INVALID', `storage pool '${e.name}' is not active`);
      await this.refuseAsyncJobs(e.name);
      const obj = this.poolObject(this.liveDef(st), st);
      try {
        await this.refreshInto(backend, obj, st);
      } catch (err) {
        // As libvirt: a pool that cannot be refreshed is stopped.
        if (backend.stopPool) await backend.stopPool(obj).catch(() => {});
        await this.store.removeState(e.name);
        stopped = true;
        throw err;
      }
      await this.store.writeState(st);
    }).catch((err) => {
      if (stopped) this.emit('stopped', e);
      throw err;
    });
  }

  async setPoolAutostart(uuid: string, autostart: boolean): Promise<void> {
    const e = await this.findPool({ uuid });
    if (!e.config) throw poolError('OPERATION_INVALID', `cannot set autostart for transient pool '${e.name}'`);
    await this.store.withPoolLock(e.name, 'autostart', () => this.store.setAutostart(e.name, autostart));
  }

  async getPoolInfo(uuid: string): Promise<PoolInfo> {
    const e = await this.findPool({ uuid });
    const def = this.def(e);
    return {
      state: e.state ? 'running' : 'inactive',
      capacity: toNumber(def.capacity),
      allocation: toNumber(def.allocation),
      available: toNumber(def.available),
    };
  }

  async getPoolXml(uuid: string, opts: { inactive?: boolean } = {}): Promise<string> {
    const e = await this.findPool({ uuid });
    if (opts.inactive && e.config) return formatStoragePoolXml(e.config);
    return formatStoragePoolXml(this.def(e));
  }

  async findPoolSources(type: string, srcSpecXml?: string): Promise<string> {
    const backend = await this.backendFor(type);
    if (!backend.findPoolSources) throw poolError('NO_SUPPORT', `find-storage-pool-sources is not supported for pool type '${type}'`);
    return backend.findPoolSources(srcSpecXml, {});
  }

  /** Starts the pools marked autostart that are not active (errors are returned, not thrown). */
  async autostartPools(): Promise<Array<{ pool: string; error?: VirtError }>> {
    const out: Array<{ pool: string; error?: VirtError }> = [];
    for (const e of await this.allEntries()) {
      if (!e.config || e.state || !(await this.store.isAutostart(e.name))) continue;
      try {
        await this.startPool(e.uuid);
        out.push({ pool: e.name });
      } catch (err) {
        out.push({ pool: e.name, error: err instanceof VirtError ? err : poolError('INTERNAL_ERROR', String(err), err) });
      }
    }
    return out;
  }

  // ------------------------------------------------------------ volumes

  private volSummary(pool: string, v: StorageVolDef): VolumeSummary {
    return { pool, name: v.name, key: v.key ?? '', path: v.target.path ?? '', type: v.type };
  }

  /** A volume by pool+name, key or path, with its (active) pool. */
  private async findVolume(key: VolumeKey): Promise<{ entry: PoolEntry & { state: PoolRuntimeState }; vol: StorageVolDef }> {
    if ('pool' in key) {
      const entry = await this.activeEntry({ name: key.pool });
      const vol = entry.state.volumes.find((v) => v.name === key.name);
      if (!vol) throw poolError('NO_STORAGE_VOL', `Storage volume not found: no storage vol with matching name '${key.name}'`);
      return { entry, vol };
    }
    const active: Array<PoolEntry & { state: PoolRuntimeState }> = [];
    for (const n of await this.store.stateNames()) {
      const e = await this.entry(n);
      if (e?.state) active.push(e as PoolEntry & { state: PoolRuntimeState });
    }
    if ('key' in key) {
      for (const entry of active) {
        const vol = entry.state.volumes.find((v) => v.key === key.key);
        if (vol) return { entry, vol };
      }
      throw poolError('NO_STORAGE_VOL', `Storage volume not found: no storage vol with matching key '${key.key}'`);
    }
    for (const entry of active) {
      const vol = entry.state.volumes.find((v) => v.target.path === key.path);
      if (vol) return { entry, vol };
    }
    // The same file reached through another path (a symlink, `..`).
    const real = await realpath(key.path).catch(() => undefined);
    if (real) {
      for (const entry of active) {
        for (const vol of entry.state.volumes) {
          if (!vol.target.path?.startsWith('/')) continue;
          if ((await realpath(vol.target.path).catch(() => undefined)) === real) return { entry, vol };
        }
      }
    }
    throw poolError('NO_STORAGE_VOL', `Storage volume not found: no storage vol with matching path '${key.path}'`);
  }

  async listVolumes(poolUuid: string): Promise<VolumeSummary[]> {
    const e = await this.activeEntry({ uuid: poolUuid });
    return e.state.volumes.map((v) => this.volSummary(e.name, v));
  }

  async lookupVolume(key: VolumeKey): Promise<VolumeSummary> {
    const { entry, vol } = await this.findVolume(key);
    return this.volSummary(entry.name, vol);
  }

  private async refuseBusy(pool: string, vol: string, allowInUse = false): Promise<void> {
    for (const j of await this.jobs.list(pool, vol)) {
      if (j.role === 'building') throw poolError('OPERATION_INVALID', `volume '${vol}' is still being allocated.`);
      if (!allowInUse) throw poolError('OPERATION_INVALID', `volume '${vol}' is still in use (${j.job} by process ${j.pid}).`);
    }
  }

  private async refuseOpen(vol: StorageVolDef): Promise<void> {
    const mode = this.opts.checkOpenFiles ?? 'locks';
    if (mode === false) return;
    const path = vol.target.path;
    if (!path?.startsWith('/') || (vol.type !== 'file' && vol.type !== 'block')) return;
    const h = await fileInUse(path, mode);
    if (h.inUse) {
      const who = h.pids.length ? `process ${h.pids.join(', ')}` : 'a running process (a guest)';
      throw poolError('OPERATION_INVALID', `volume '${vol.name}' is still in use: ${path} is held by ${who}`);
    }
  }

  /** Writes a changed volume into the pool's state (under the pool lock). */
  private async commitVolume(pool: string, vol: StorageVolDef | undefined, removeName?: string, sizes?: { allocationDelta: bigint }): Promise<void> {
    await this.store.withPoolLock(pool, 'update volumes', async () => {
      const st = await this.store.readStateForUpdate(pool);
      if (!st) return;
      if (removeName !== undefined) st.volumes = st.volumes.filter((v) => v.name !== removeName);
      if (vol) {
        vol.key ??= vol.target.path ?? vol.name;
        const i = st.volumes.findIndex((v) => v.name === vol.name);
        if (i >= 0) st.volumes[i] = vol;
        else {
          st.volumes.push(vol);
          st.volumes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        }
      }
      if (sizes && st.type !== 'disk') {
        st.allocation += sizes.allocationDelta;
        st.available -= sizes.allocationDelta;
        if (st.available < 0n) st.available = 0n;
        if (st.allocation < 0n) st.allocation = 0n;
      }
      await this.store.writeState(st);
    });
  }

  private async newVolume(
    poolUuid: string,
    xml: string,
    opts: VolumeCreateOptions,
    job: JobContext | undefined,
    input: VolumeKey | undefined,
  ): Promise<VolumeSummary> {
    const entry = await this.activeEntry({ uuid: poolUuid });
    const backend = await this.backendFor(entry.type);
    const def = this.liveDef(entry.state);
    const vol = parseStorageVolXml(xml, def, input ? { noCapacity: true } : { optCapacity: true });
    checkVolumeName(vol.name, entry.name);
    delete vol.key;

    let src: { entry: PoolEntry & { state: PoolRuntimeState }; vol: StorageVolDef; backend: StoragePoolBackend } | undefined;
    if (input) {
      const found = await this.findVolume(input);
      src = { ...found, vol: cloneVol(found.vol), backend: await this.backendFor(found.entry.type) };
      if (!backend.buildVolFrom) throw poolError('NO_SUPPORT', `storage pool '${entry.name}' does not support volume creation from an existing volume`);
      await this.refuseBusy(src.entry.name, src.vol.name, true);
      if (src.backend.refreshVol) await src.backend.refreshVol(this.poolObject(this.liveDef(src.entry.state), src.entry.state), src.vol);
      // As libvirt: never smaller than the source, and fully allocated unless told otherwise.
      if (vol.capacity < src.vol.capacity) vol.capacity = src.vol.capacity;
      if (!vol.hasAllocation) vol.allocation = vol.capacity;
    } else if (vol.capacity === 0n && !backend.buildVol) {
      throw poolError('NO_SUPPORT', `storage pool '${entry.name}': volume capacity required for this storage pool`);
    }
    if (!backend.createVol) throw poolError('NO_SUPPORT', `storage pool '${entry.name}' does not support volume creation`);

    const obj = this.poolObject(def, entry.state);
    // Reserve the name: refuse duplicates and mark the build, atomically against other processes.
    const endBuild = await this.store.withPoolLock(entry.name, `create volume '${vol.name}'`, async () => {
      const st = await this.store.readState(entry.name);
      if (!st) throw poolError('OPERATION_INVALID', `storage pool '${entry.name}' is not active`);
      if (st.volumes.some((v) => v.name === vol.name)) throw poolError('STORAGE_VOL_EXIST', `storage volume '${vol.name}' already exists in pool '${entry.name}'`);
      if ((await this.jobs.list(entry.name, vol.name)).some((j) => j.role === 'building')) {
        throw poolError('STORAGE_VOL_EXIST', `storage volume '${vol.name}' is already being created in pool '${entry.name}'`);
      }
      await backend.createVol!(obj, vol);
      return this.jobs.begin(entry.name, vol.name, 'building', input ? 'clone' : 'create');
    });
    const endUse = src ? await this.jobs.begin(src.entry.name, src.vol.name, 'in-use', `clone into '${vol.name}'`) : undefined;
    try {
      if (src) {
        const inputObj = this.poolObject(this.liveDef(src.entry.state), src.entry.state);
        await backend.buildVolFrom!(obj, vol, { pool: inputObj, vol: src.vol, backend: src.backend }, opts, withOperation(job, 'volume-clone'));
      } else if (backend.buildVol) {
        await backend.buildVol(obj, vol, opts, withOperation(job, 'volume-create'));
      }
      try {
        if (backend.refreshVol) await backend.refreshVol(obj, vol);
      } catch (err) {
        if (backend.deleteVol) await backend.deleteVol(obj, vol, {}).catch(() => {});
        throw err;
      }
      await this.commitVolume(entry.name, vol, undefined, { allocationDelta: vol.allocation });
    } finally {
      await endUse?.();
      await endBuild();
    }
    return this.volSummary(entry.name, vol);
  }

  createVolume(poolUuid: string, xml: string, opts: VolumeCreateOptions = {}, job?: JobContext): Promise<VolumeSummary> {
    return this.newVolume(poolUuid, xml, opts, job, undefined);
  }

  createVolumeFrom(poolUuid: string, xml: string, source: VolumeKey, opts: VolumeCreateOptions = {}, job?: JobContext): Promise<VolumeSummary> {
    return this.newVolume(poolUuid, xml, opts, job, source);
  }

  async deleteVolume(key: VolumeKey, opts: { deleteSnapshots?: boolean } = {}): Promise<void> {
    const { entry, vol } = await this.findVolume(key);
    const backend = await this.backendFor(entry.type);
    if (!backend.deleteVol) throw poolError('NO_SUPPORT', `storage pool '${entry.name}' does not support volume deletion`);
    await this.refuseBusy(entry.name, vol.name);
    await this.refuseOpen(vol);
    const obj = this.poolObject(this.liveDef(entry.state), entry.state);
    await backend.deleteVol(obj, vol, { ...(opts.deleteSnapshots ? { deleteSnapshots: true } : {}) });
    await this.commitVolume(entry.name, undefined, vol.name, { allocationDelta: -vol.allocation });
  }

  async resizeVolume(key: VolumeKey, capacity: number, opts: VolumeResizeOptions = {}): Promise<void> {
    const { entry, vol: stored } = await this.findVolume(key);
    const backend = await this.backendFor(entry.type);
    await this.refuseBusy(entry.name, stored.name);
    const vol = cloneVol(stored);
    const obj = this.poolObject(this.liveDef(entry.state), entry.state);
    if (backend.refreshVol) await backend.refreshVol(obj, vol);
    const cap = vol.capacity;
    const want = BigInt(Math.trunc(capacity));
    let abs: bigint;
    if (opts.delta) {
      const d = want < 0n ? -want : want;
      abs = opts.shrink || want < 0n ? cap - (d < cap ? d : cap) : cap + d;
    } else abs = want;
    if (abs < 0n) throw poolError('INVALID_ARG', `volume '${vol.name}': capacity must not be negative`);
    const shrinking = abs < cap;
    if (shrinking && !opts.shrink) {
      throw poolError('INVALID_ARG', `volume '${vol.name}': can't shrink capacity below current capacity unless shrink flag explicitly specified`);
    }
    if (shrinking && abs < vol.allocation && vol.type !== 'block') {
      throw poolError('INVALID_ARG', `volume '${vol.name}': can't shrink capacity below existing allocation`);
    }
    const delta = opts.allocate && abs > vol.allocation ? abs - vol.allocation : 0n;
    if (delta > 0n && delta > entry.state.available) throw poolError('OPERATION_FAILED', `volume '${vol.name}': not enough space left in storage pool '${entry.name}'`);
    if (!backend.resizeVol) throw poolError('NO_SUPPORT', `storage pool '${entry.name}' does not support changing of volume capacity`);
    if (shrinking) await this.refuseOpen(vol);
    const end = await this.jobs.begin(entry.name, vol.name, 'in-use', 'resize');
    try {
      const before = vol.allocation;
      await backend.resizeVol(obj, vol, abs, opts, {});
      vol.capacity = abs;
      if (backend.refreshVol) await backend.refreshVol(obj, vol);
      await this.commitVolume(entry.name, vol, undefined, { allocationDelta: vol.allocation - before });
    } finally {
      await end();
    }
  }

  async wipeVolume(key: VolumeKey, algorithm: WipeAlgorithm = 'zero', job?: JobContext): Promise<void> {
    if (!(WIPE_ALGORITHMS as readonly string[]).includes(algorithm)) throw poolError('INVALID_ARG', `wiping algorithm '${algorithm}' not supported`);
    const { entry, vol: stored } = await this.findVolume(key);
    const backend = await this.backendFor(entry.type);
    if (!backend.wipeVol) throw poolError('NO_SUPPORT', `storage pool '${entry.name}' doesn't support volume wiping`);
    await this.refuseBusy(entry.name, stored.name);
    await this.refuseOpen(stored);
    const vol = cloneVol(stored);
    const obj = this.poolObject(this.liveDef(entry.state), entry.state);
    const end = await this.jobs.begin(entry.name, vol.name, 'in-use', `wipe (${algorithm})`);
    try {
      await backend.wipeVol(obj, vol, algorithm, withOperation(job, 'volume-wipe'));
      if (backend.refreshVol) await backend.refreshVol(obj, vol);
      await this.commitVolume(entry.name, vol, undefined, { allocationDelta: vol.allocation - stored.allocation });
    } finally {
      await end();
    }
  }

  private async freshVolume(key: VolumeKey): Promise<{ entry: PoolEntry & { state: PoolRuntimeState }; vol: StorageVolDef; def: StoragePoolDef }> {
    const { entry, vol: stored } = await this.findVolume(key);
    const backend = await this.backendFor(entry.type);
    const def = this.liveDef(entry.state);
    const vol = cloneVol(stored);
    if (backend.refreshVol) await backend.refreshVol(this.poolObject(def, entry.state), vol);
    return { entry, vol, def };
  }

  async getVolumeInfo(key: VolumeKey): Promise<VolumeInfo> {
    const { vol } = await this.freshVolume(key);
    const info: VolumeInfo = { type: vol.type, capacity: toNumber(vol.capacity), allocation: toNumber(vol.allocation) };
    if (vol.physical !== undefined) info.physical = toNumber(vol.physical);
    return info;
  }

  async getVolumeXml(key: VolumeKey): Promise<string> {
    const { vol, def } = await this.freshVolume(key);
    return formatStorageVolXml(vol, def);
  }

  async uploadVolume(key: VolumeKey, source: Readable, opts: VolumeTransferOptions = {}, job?: JobContext): Promise<void> {
    const { entry, vol: stored } = await this.findVolume(key);
    const backend = await this.backendFor(entry.type);
    if (!backend.uploadVol) throw poolError('NO_SUPPORT', `storage pool '${entry.name}' doesn't support volume upload`);
    await this.refuseBusy(entry.name, stored.name);
    const vol = cloneVol(stored);
    const obj = this.poolObject(this.liveDef(entry.state), entry.state);
    const end = await this.jobs.begin(entry.name, vol.name, 'in-use', 'upload');
    try {
      await backend.uploadVol(obj, vol, source, opts, withOperation(job, 'volume-upload'));
      if (backend.refreshVol) await backend.refreshVol(obj, vol);
      await this.commitVolume(entry.name, vol, undefined, { allocationDelta: vol.allocation - stored.allocation });
    } finally {
      await end();
    }
  }

  async downloadVolume(key: VolumeKey, opts: VolumeTransferOptions = {}, job?: JobContext): Promise<Readable> {
    const { entry, vol: stored } = await this.findVolume(key);
    const backend = await this.backendFor(entry.type);
    if (!backend.downloadVol) throw poolError('NO_SUPPORT', `storage pool '${entry.name}' doesn't support volume download`);
    await this.refuseBusy(entry.name, stored.name, true);
    const vol = cloneVol(stored);
    const obj = this.poolObject(this.liveDef(entry.state), entry.state);
    const end = await this.jobs.begin(entry.name, vol.name, 'in-use', 'download');
    let stream: Readable;
    try {
      stream = await backend.downloadVol(obj, vol, opts, withOperation(job, 'volume-download'));
    } catch (err) {
      await end();
      throw err;
    }
    // The marker goes synchronously in the first 'end' listener, so the reader's own
    // end handler (and its next call on the volume) already sees the volume free.
    stream.once('close', () => void end());
    stream.once('end', () => void end());
    stream.once('error', () => void end());
    return stream;
  }

  /** How a hypervisor opens a volume (`<disk type='volume'>`). */
  async volumeDiskSource(pool: string, volume: string): Promise<VolumeDiskSource> {
    const { entry, vol } = await this.findVolume({ pool, name: volume });
    const backend = await this.backendFor(entry.type);
    const obj = this.poolObject(this.liveDef(entry.state), entry.state);
    return backend.volumeDiskSource ? backend.volumeDiskSource(obj, vol) : defaultVolumeDiskSource(vol);
  }
}

/** Opens the local storage driver of a URI and, the first time its runtime folder is seen, starts autostart pools. */
export async function openLocalStorageDriver(uri: VirtUri, opts: LocalStorageDriverOptions): Promise<LocalStorageDriver> {
  const driver = new LocalStorageDriver(uri, opts);
  if (opts.autostart !== false) {
    const marker = join(driver.store.stateDir, '.autostarted');
    await mkdir(driver.store.stateDir, { recursive: true });
    const fh = await open(marker, 'wx').catch(() => undefined);
    if (fh) {
      await fh.close();
      await driver.autostartPools();
    }
  }
  return driver;
}
