/**
 * The contract between the local storage driver and a pool backend
 * (`dir`, `fs`, `netfs`, `logical`, `iscsi`, `iscsi-direct`, or a third
 * party's), modelled on libvirt's storage backend table
 * (src/storage/storage_backend.h): every operation is optional, and a
 * missing one is reported to the caller as NO_SUPPORT.
 *
 * The driver owns definitions, state files, locking, events and the
 * volume list; a backend only touches the storage itself.
 */
import type { Readable } from 'node:stream';
import type { JobContext, PoolBuildOptions, VolumeCreateOptions, VolumeResizeOptions, VolumeTransferOptions, WipeAlgorithm } from '../driver.js';
import type { StoragePoolDef } from '../models/storage/pool.js';
import type { StorageVolDef } from '../models/storage/volume.js';

/** JSON a backend may keep about an active pool (which loop device it attached, how it mounted). */
export type BackendStateValue = string | number | boolean | null | BackendStateValue[] | { [key: string]: BackendStateValue };
export type BackendState = Record<string, BackendStateValue>;

/** One pool as the driver hands it to its backend. */
export interface StoragePoolObject {
  /** The live definition (the one the pool was started with). */
  readonly def: StoragePoolDef;
  /**
   * Runtime facts of the backend, persisted by the driver with the pool's
   * state while it is active and handed back on every call. `startPool`
   * and `buildPool` may write to it; it is cleared when the pool stops.
   */
  state: BackendState;
  /** A folder the backend may use for short-lived files of this pool (secrets, staging). */
  readonly scratchDir: string;
}

/** What a refresh finds: the pool's sizes and its volumes (each with name, key, path and type set). */
export interface PoolRefreshResult {
  capacity: bigint;
  allocation: bigint;
  available: bigint;
  volumes: StorageVolDef[];
}

export interface PoolDeleteOptions {
  /** VIR_STORAGE_POOL_DELETE_ZEROED: overwrite with zeros (unsupported by most backends). */
  zeroed?: boolean;
}

export interface VolumeDeleteOptions {
  deleteSnapshots?: boolean;
  zeroed?: boolean;
}

/** The source volume of a clone, with its pool (which may be of another type). */
export interface VolumeInput {
  pool: StoragePoolObject;
  vol: StorageVolDef;
  /** The backend of the input pool, to read a volume that is not a local path. */
  backend: StoragePoolBackend;
}

/**
 * How a hypervisor opens a volume (libvirt's translation of `<disk
 * type='volume'>`): a local file or block device, possibly a slice of
 * one, or a network source such as `nfs://` or `iscsi://`.
 */
export type VolumeDiskSource =
  | {
      type: 'file' | 'block' | 'dir';
      path: string;
      /** Image format of the volume (`raw`, `qcow2`, …); undefined when it has none. */
      format?: string;
      /** A byte range of `path` (libvirt's `<slices><slice type='storage'>`). */
      slice?: { offset: number; size: number };
    }
  | {
      type: 'network';
      protocol: 'nfs' | 'iscsi' | 'rbd' | 'gluster' | 'nbd' | (string & {});
      /** Protocol-specific name: the export path of an NFS file, `IQN/LUN` for iSCSI. */
      name: string;
      hosts: Array<{ name: string; port?: number; transport?: 'tcp' | 'unix' | 'rdma' }>;
      format?: string;
      /** iSCSI initiator IQN to log in as. */
      initiatorIqn?: string;
      auth?: { type: string; username: string; secret: { uuid?: string; usage?: string } };
      /** The same source as one URL (`nfs://host/export/vol`, `iscsi://host:port/iqn/lun`). */
      url: string;
    };

/**
 * A pool backend. Implement what the storage supports; leave the rest
 * out. Sizes are bigints (bytes). Long operations get a JobContext whose
 * signal cancels them; a cancelled or failed volume build must leave no
 * half-made volume behind.
 */
export interface StoragePoolBackend {
  /** The pool type this backend serves (`dir`, `fs`, …). */
  readonly type: string;

  /** Lists what a pool of this type could use (`find-storage-pool-sources`), as `<sources>` XML. */
  findPoolSources?(srcSpecXml: string | undefined, job: JobContext): Promise<string>;
  /** Whether the storage of a pool marked active is really there (after a reboot, a lost mount). */
  checkPool?(pool: StoragePoolObject): Promise<boolean>;
  /** Makes the storage usable: mount, attach, activate, log in. */
  startPool?(pool: StoragePoolObject): Promise<void>;
  /** Creates the storage (mkdir, mkfs, vgcreate); `overwrite` / `noOverwrite` as `pool-build`'s flags. */
  buildPool?(pool: StoragePoolObject, opts: PoolBuildOptions, job: JobContext): Promise<void>;
  /** Reads the pool's sizes and volumes. The only required operation. */
  refreshPool(pool: StoragePoolObject, job: JobContext): Promise<PoolRefreshResult>;
  /** Undoes `startPool`. */
  stopPool?(pool: StoragePoolObject): Promise<void>;
  /** Destroys the storage of an inactive pool (rmdir, vgremove). */
  deletePool?(pool: StoragePoolObject, opts: PoolDeleteOptions): Promise<void>;

  /** Fills in a new volume's key, path and type, and refuses what cannot be made; makes nothing yet. */
  createVol?(pool: StoragePoolObject, vol: StorageVolDef): Promise<void>;
  /** Makes the volume `createVol` described. */
  buildVol?(pool: StoragePoolObject, vol: StorageVolDef, opts: VolumeCreateOptions, job: JobContext): Promise<void>;
  /** Makes the volume as a copy (or conversion) of `input`. */
  buildVolFrom?(pool: StoragePoolObject, vol: StorageVolDef, input: VolumeInput, opts: VolumeCreateOptions, job: JobContext): Promise<void>;
  /** Re-reads a volume's sizes (and format details) in place. */
  refreshVol?(pool: StoragePoolObject, vol: StorageVolDef): Promise<void>;
  deleteVol?(pool: StoragePoolObject, vol: StorageVolDef, opts: VolumeDeleteOptions): Promise<void>;
  /** Sets the capacity (already absolute and checked against shrinking by the driver). */
  resizeVol?(pool: StoragePoolObject, vol: StorageVolDef, capacity: bigint, opts: VolumeResizeOptions, job: JobContext): Promise<void>;
  /** Writes a byte stream into the volume at `offset` (at most `length` bytes when non-zero). */
  uploadVol?(pool: StoragePoolObject, vol: StorageVolDef, source: Readable, opts: VolumeTransferOptions, job: JobContext): Promise<void>;
  /** Reads the volume's bytes from `offset` (at most `length` when non-zero). */
  downloadVol?(pool: StoragePoolObject, vol: StorageVolDef, opts: VolumeTransferOptions, job: JobContext): Promise<Readable>;
  wipeVol?(pool: StoragePoolObject, vol: StorageVolDef, algorithm: WipeAlgorithm, job: JobContext): Promise<void>;

  /** How a hypervisor opens the volume; default: its path, as a file or block device. */
  volumeDiskSource?(pool: StoragePoolObject, vol: StorageVolDef): VolumeDiskSource | Promise<VolumeDiskSource>;
}

/** The optional operations of the backend table, in libvirt's order. */
export const STORAGE_BACKEND_OPERATIONS = [
  'findPoolSources', 'checkPool', 'startPool', 'buildPool', 'refreshPool', 'stopPool', 'deletePool',
  'buildVol', 'buildVolFrom', 'createVol', 'refreshVol', 'deleteVol', 'resizeVol', 'uploadVol', 'downloadVol', 'wipeVol',
] as const;
export type StorageBackendOperation = (typeof STORAGE_BACKEND_OPERATIONS)[number];

/** Which operations a backend declares. */
export function backendOperations(backend: StoragePoolBackend): StorageBackendOperation[] {
  return STORAGE_BACKEND_OPERATIONS.filter((op) => typeof (backend as unknown as Record<string, unknown>)[op] === 'function');
}

/** Whether a value loaded from a plugin looks like a backend. */
export function isStoragePoolBackend(x: unknown): x is StoragePoolBackend {
  return !!x && typeof x === 'object' && typeof (x as StoragePoolBackend).type === 'string' && typeof (x as StoragePoolBackend).refreshPool === 'function';
}
