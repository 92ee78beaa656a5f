import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VirtError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import { FileLock } from '../locks.js';
import type { StateDirs } from '../paths.js';
import type { StorageVolDef } from '../models/storage/volume.js';
import type { BackendState } from './backend.js';
import { decodeState, encodeState } from './state-codec.js';

/** What the driver keeps about an active pool in `<runtime>/storage/NAME.json`. */
export interface PoolRuntimeState {
  version: 1;
  name: string;
  uuid: string;
  type: string;
  /** Started from XML without a definition (`pool-create`): gone when stopped. */
  transient: boolean;
  /** The live definition, as XML. */
  xml: string;
  backend: BackendState;
  capacity: bigint;
  allocation: bigint;
  available: bigint;
  volumes: StorageVolDef[];
  /** Bumped on every change, so a reader can tell a stale copy. */
  generation: number;
}

interface Cached<T> {
  ino: number;
  mtimeMs: number;
  size: number;
  value: T;
}

/**
 * The files of the local storage driver for one URI family (libvirt's
 * layout): definitions in `<config>/storage/NAME.xml`, autostart links in
 * `<config>/storage/autostart/NAME.xml`, the state of active pools in
 * `<runtime>/storage/NAME.json`, lock files and job markers beside it.
 * Every write is atomic; reads are cached by inode and mtime.
 */
export class PoolStore {
  readonly configDir: string;
  readonly autostartDir: string;
  readonly stateDir: string;
  readonly lockDir: string;
  readonly jobsDir: string;
  readonly scratchRoot: string;
  private readonly cache = new Map<string, Cached<unknown>>();

  constructor(readonly dirs: StateDirs, private readonly lockTimeoutMs?: number) {
    this.configDir = join(dirs.config, 'storage');
    this.autostartDir = join(this.configDir, 'autostart');
    this.stateDir = join(dirs.runtime, 'storage');
    this.lockDir = join(this.stateDir, 'locks');
    this.jobsDir = join(this.stateDir, 'jobs');
    this.scratchRoot = join(this.stateDir, 'scratch');
  }

  configPath(name: string): string {
    return join(this.configDir, `${name}.xml`);
  }
  statePath(name: string): string {
    return join(this.stateDir, `${name}.json`);
  }
  autostartPath(name: string): string {
    return join(this.autostartDir, `${name}.xml`);
  }
  scratchDir(name: string): string {
    return join(this.scratchRoot, name);
  }

  private async names(dir: string, ext: string): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new VirtError('SYSTEM_ERROR', `cannot read storage folder ${dir}: ${(err as Error).message}`, { origin: 'storage', cause: err });
    }
    return entries.filter((e) => e.endsWith(ext) && !e.startsWith('.')).map((e) => e.slice(0, -ext.length));
  }

  /** Names of defined (persistent) pools. */
  configNames(): Promise<string[]> {
    return this.names(this.configDir, '.xml');
  }
  /** Names of active pools. */
  stateNames(): Promise<string[]> {
    return this.names(this.stateDir, '.json');
  }

  /**
   * A small file, parsed once per version. The file calls are synchronous:
   * a few microseconds each on a local folder, where the promise versions
   * wait a thread-pool round trip each, and one volume change makes a dozen.
   */
  private async readCached<T>(path: string, parse: (text: string) => T): Promise<T | undefined> {
    let st;
    try {
      st = statSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.cache.delete(path);
        return undefined;
      }
      throw new VirtError('SYSTEM_ERROR', `cannot read ${path}: ${(err as Error).message}`, { origin: 'storage', cause: err });
    }
    const hit = this.cache.get(path);
    if (hit && hit.ino === st.ino && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.value as T;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new VirtError('SYSTEM_ERROR', `cannot read ${path}: ${(err as Error).message}`, { origin: 'storage', cause: err });
    }
    const value = parse(text);
    this.cache.set(path, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, value });
    return value;
  }

  /** A definition file's XML. */
  readConfig(name: string): Promise<string | undefined> {
    return this.readCached(this.configPath(name), (t) => t);
  }

  async writeConfig(name: string, xml: string): Promise<void> {
    await writeFileAtomic(this.configPath(name), xml, 0o600);
  }

  async removeConfig(name: string): Promise<void> {
    await unlink(this.configPath(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw new VirtError('SYSTEM_ERROR', `cannot remove ${this.configPath(name)}: ${err.message}`, { origin: 'storage', cause: err });
    });
    await this.setAutostart(name, false);
  }

  /**
   * The state of an active pool. Returned objects are shared with the
   * cache: callers that change one must write it back (or clone first).
   */
  async readState(name: string): Promise<PoolRuntimeState | undefined> {
    return this.readCached(this.statePath(name), (t) => this.decode(name, t));
  }

  /**
   * A private copy of an active pool's state, to change and write back
   * (under the pool lock). Top-level fields and the volume list are the
   * copy's own; replace volumes in the list rather than changing them.
   */
  async readStateForUpdate(name: string): Promise<PoolRuntimeState | undefined> {
    const cached = await this.readState(name);
    if (cached) return { ...cached, volumes: [...cached.volumes], backend: { ...cached.backend } };
    let text: string;
    try {
      text = await readFile(this.statePath(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new VirtError('SYSTEM_ERROR', `cannot read ${this.statePath(name)}: ${(err as Error).message}`, { origin: 'storage', cause: err });
    }
    return this.decode(name, text);
  }

  private decode(name: string, text: string): PoolRuntimeState {
    try {
      return decodeState<PoolRuntimeState>(text);
    } catch (err) {
      throw new VirtError('INTERNAL_ERROR', `storage pool '${name}': corrupt state file ${this.statePath(name)}: ${(err as Error).message}`, {
        origin: 'storage',
        cause: err,
      });
    }
  }

  /**
   * Replaces an active pool's state file (write beside, rename over it:
   * readers see the old or the new one). No fsync: like /run, runtime
   * state does not outlive a reboot.
   */
  async writeState(state: PoolRuntimeState): Promise<void> {
    state.generation++;
    const path = this.statePath(state.name);
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(tmp, encodeState(state), { mode: 0o600 });
      renameSync(tmp, path);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        /* never written */
      }
      throw new VirtError('SYSTEM_ERROR', `storage pool '${state.name}': cannot write its state ${path}: ${(err as Error).message}`, { origin: 'storage', cause: err });
    }
    // What we just wrote is what the next read would parse.
    const st = statSync(path, { throwIfNoEntry: false });
    if (st) this.cache.set(path, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, value: state });
  }

  async removeState(name: string): Promise<void> {
    await unlink(this.statePath(name)).catch(() => {});
    this.cache.delete(this.statePath(name));
  }

  async isAutostart(name: string): Promise<boolean> {
    try {
      await lstat(this.autostartPath(name));
      return true;
    } catch {
      return false;
    }
  }

  async setAutostart(name: string, on: boolean): Promise<void> {
    const link = this.autostartPath(name);
    if (!on) {
      await unlink(link).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') {
          throw new VirtError('SYSTEM_ERROR', `cannot remove autostart link ${link}: ${err.message}`, { origin: 'storage', cause: err });
        }
      });
      return;
    }
    if (await this.isAutostart(name)) return;
    await mkdir(this.autostartDir, { recursive: true });
    try {
      await symlink(this.configPath(name), link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new VirtError('SYSTEM_ERROR', `cannot create autostart link ${link}: ${(err as Error).message}`, { origin: 'storage', cause: err });
      }
    }
  }

  /** Runs `fn` holding the cross-process lock of one pool. */
  withPoolLock<T>(name: string, what: string, fn: () => Promise<T>): Promise<T> {
    return FileLock.with(join(this.lockDir, `${name}.lock`), `storage pool '${name}' (${what})`, fn, this.lockTimeoutMs);
  }

  /** Runs `fn` holding the lock of the pool list (define, undefine, create). */
  withListLock<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return FileLock.with(join(this.lockDir, '.pools.lock'), `the storage pool list (${what})`, fn, this.lockTimeoutMs);
  }
}
