import { chmod, chown, lstat, mkdir, open, rm, rmdir, stat, statfs, unlink } from 'node:fs/promises';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  VirtError,
  defaultVolumeDiskSource,
  type JobContext,
  type PoolRefreshResult,
  type StoragePoolDef,
  type StoragePoolObject,
  type StorageVolDef,
  type VolumeCreateOptions,
  type VolumeDeleteOptions,
  type VolumeDiskSource,
  type VolumeInput,
  type VolumeResizeOptions,
  type VolumeTransferOptions,
  type WipeAlgorithm,
} from '@virtkit/core';
import { buildQemuImgCommand, createVolumeWithQemuImg, resizeVolumeWithQemuImg, runQemuImg } from '@virtkit/storage-volume-format';
import { openLocalTarget, openSegmentsTarget, type BlockTarget, type OpenMode } from './block-target.js';
import { blockDeviceSize, probeImage } from './image-probe.js';
import { openQemuTarget, qemuFilename } from './qemu-block.js';
import { haveCommand, runCommand } from './run-command.js';
import { aborted, copyTarget, downloadFromTarget, uploadToTarget } from './transfer.js';
import { wipeTarget } from './wipe.js';

/** libvirt's default modes for pool folders and new volumes. */
export const DEFAULT_POOL_DIR_MODE = 0o711;
export const DEFAULT_VOLUME_MODE = 0o600;

const what = (vol: StorageVolDef) => `storage volume '${vol.name}'`;

/** Pool sizes from the file system holding `path` (as libvirt: statvfs). */
export async function fileSystemSizes(path: string): Promise<{ capacity: bigint; allocation: bigint; available: bigint }> {
  const s = await statfs(path, { bigint: true });
  return { capacity: s.blocks * s.bsize, allocation: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize };
}

function timestamp(ns: bigint): { sec: bigint; nsec: number } {
  return { sec: ns / 1_000_000_000n, nsec: Number(ns % 1_000_000_000n) };
}

/** Fills a volume's sizes, format and file facts from what is at its path. Returns false for what is not a volume (sockets, fifos). */
export async function updateLocalVolume(vol: StorageVolDef, path: string): Promise<boolean> {
  const st = await stat(path, { bigint: true });
  vol.target.perms = { ...vol.target.perms, mode: Number(st.mode & 0o7777n), owner: Number(st.uid), group: Number(st.gid) };
  vol.target.timestamps = { atime: timestamp(st.atimeNs), mtime: timestamp(st.mtimeNs), ctime: timestamp(st.ctimeNs) };
  if (st.isDirectory()) {
    vol.type = 'dir';
    vol.target.format = 'dir';
    vol.capacity = st.size;
    vol.allocation = st.blocks * 512n;
    return true;
  }
  if (st.isBlockDevice()) {
    vol.type = 'block';
    const size = (await blockDeviceSize(path)) ?? 0n;
    vol.capacity = size;
    vol.allocation = size;
    vol.physical = size;
    return true;
  }
  if (!st.isFile()) return false;
  vol.type = 'file';
  const probe = await probeImage(path, st.size);
  vol.target.format = probe.format;
  vol.capacity = probe.capacity;
  vol.allocation = st.blocks * 512n;
  vol.physical = st.size;
  if (probe.format === 'qcow2') {
    if (probe.compat) vol.target.compat = probe.compat;
    if (probe.clusterSize) vol.target.clusterSize = probe.clusterSize;
    if (probe.features) vol.target.features = probe.features;
    else delete vol.target.features;
  } else {
    delete vol.target.compat;
    delete vol.target.clusterSize;
    delete vol.target.features;
  }
  if (probe.backingStore) {
    vol.backingStore = { path: probe.backingStore.path, perms: {}, ...(probe.backingStore.format ? { format: probe.backingStore.format } : {}) };
  } else delete vol.backingStore;
  return true;
}

/** A volume found at `path` (pool refresh), or undefined when the entry is not a volume. */
export async function localVolumeFromPath(name: string, path: string): Promise<StorageVolDef | undefined> {
  const vol: StorageVolDef = { name, key: path, type: 'file', extents: [], capacity: 0n, allocation: 0n, hasAllocation: true, target: { path, perms: {}, nocow: false } };
  try {
    return (await updateLocalVolume(vol, path)) ? vol : undefined;
  } catch {
    // Vanished or unreadable meanwhile: not a volume now.
    return undefined;
  }
}

/** Every volume in a folder, with the file system's sizes (libvirt's virStorageBackendRefreshLocal). */
export async function scanDirectory(dir: string, what: string): Promise<PoolRefreshResult> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new VirtError('SYSTEM_ERROR', `${what}: cannot open directory '${dir}': ${(err as Error).message}`, { origin: 'storage', cause: err });
  }
  const volumes: StorageVolDef[] = [];
  // A bounded number of files probed at once.
  const names = entries.filter((e) => !e.startsWith('.'));
  for (let i = 0; i < names.length; i += 32) {
    const batch = await Promise.all(names.slice(i, i + 32).map((n) => localVolumeFromPath(n, join(dir, n))));
    for (const v of batch) if (v) volumes.push(v);
  }
  return { ...(await fileSystemSizes(dir)), volumes };
}

/** libvirt's virStorageBackendBuildLocal: the pool's folder, with its permissions. */
export async function buildPoolDirectory(def: StoragePoolDef): Promise<void> {
  const path = def.target!.path;
  const existed = await stat(path).then((s) => {
    if (!s.isDirectory()) throw new VirtError('OPERATION_INVALID', `storage pool '${def.name}': target path '${path}' exists and is not a directory`, { origin: 'storage' });
    return true;
  }, () => false);
  const perms = def.target!.perms;
  const mode = perms.mode ?? DEFAULT_POOL_DIR_MODE;
  if (!existed) await mkdir(path, { recursive: true, mode });
  if (!existed || perms.mode !== undefined) await chmod(path, mode);
  if (perms.owner !== undefined || perms.group !== undefined) await chown(path, perms.owner ?? -1, perms.group ?? -1);
}

/** libvirt's virStorageBackendVolCreateLocal: path and key of a new volume in a folder; nothing is made yet. */
export async function describeLocalVolume(dir: string, vol: StorageVolDef): Promise<void> {
  vol.type = vol.target.format === 'dir' ? 'dir' : 'file';
  const path = join(dir, vol.name);
  if (await lstat(path).then(() => true, () => false)) {
    throw new VirtError('OPERATION_INVALID', `${what(vol)}: volume target path '${path}' already exists`, { origin: 'storage' });
  }
  vol.target.path = path;
  vol.key = path;
}

async function applyPerms(vol: StorageVolDef, path: string, fallbackMode: number): Promise<void> {
  const p = vol.target.perms;
  await chmod(path, p.mode ?? fallbackMode);
  if (p.owner !== undefined || p.group !== undefined) await chown(path, p.owner ?? -1, p.group ?? -1);
}

function progress(job: JobContext, processed: bigint, total: bigint): void {
  try {
    job.onProgress?.({ processed: Number(processed), total: Number(total) });
  } catch {
    // ignore listener failures
  }
}

/** Allocates the first `bytes` of a file: fallocate(1) as libvirt's safezero, else zeros written in blocks. */
async function allocateFile(path: string, from: bigint, bytes: bigint, job: JobContext, label: string): Promise<void> {
  if (bytes <= 0n) return;
  progress(job, 0n, bytes);
  if (await haveCommand('fallocate')) {
    const r = await runCommand(['fallocate', '--keep-size', '--offset', String(from), '--length', String(bytes), path], {
      allowFailure: true,
      ...(job.signal ? { signal: job.signal } : {}),
    });
    if (r.code === 0) {
      progress(job, bytes, bytes);
      return;
    }
  }
  const t = await openLocalTarget(path, 'rw');
  try {
    const block = Buffer.alloc(1 << 20);
    for (let done = 0n; done < bytes; ) {
      if (job.signal?.aborted) throw aborted(label);
      const n = bytes - done < BigInt(block.length) ? Number(bytes - done) : block.length;
      await t.write(Number(from + done), block.subarray(0, n));
      done += BigInt(n);
      progress(job, done, bytes);
    }
    await t.flush();
  } finally {
    await t.close();
  }
}

/** A raw file made by hand, as libvirt's createRawFile: exclusive create, permissions, size, then allocation. */
async function createRawFile(vol: StorageVolDef, job: JobContext): Promise<void> {
  const path = vol.target.path!;
  const fh = await open(path, 'wx', vol.target.perms.mode ?? DEFAULT_VOLUME_MODE).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new VirtError('STORAGE_VOL_EXIST', `${what(vol)}: '${path}' already exists`, { origin: 'storage' });
    throw new VirtError('SYSTEM_ERROR', `${what(vol)}: cannot create '${path}': ${err.message}`, { origin: 'storage', cause: err });
  });
  try {
    try {
      await fh.truncate(Number(vol.capacity));
    } finally {
      await fh.close();
    }
    await applyPerms(vol, path, DEFAULT_VOLUME_MODE);
    const alloc = vol.allocation < vol.capacity ? vol.allocation : vol.capacity;
    await allocateFile(path, 0n, alloc, job, what(vol));
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}

const isPlainRaw = (vol: StorageVolDef) => (vol.target.format ?? 'raw') === 'raw' && !vol.target.encryption && !vol.backingStore;

/** Makes a new volume in a folder: a directory, a raw file, or an image through qemu-img. */
export async function buildLocalVolume(pool: StoragePoolObject, vol: StorageVolDef, opts: VolumeCreateOptions, job: JobContext): Promise<void> {
  const path = vol.target.path!;
  if (job.signal?.aborted) throw aborted(what(vol));
  if (vol.type === 'dir') {
    await mkdir(path, { mode: vol.target.perms.mode ?? 0o755 });
    await applyPerms(vol, path, 0o755);
    return;
  }
  if (isPlainRaw(vol) && !opts.preallocMetadata) return createRawFile(vol, job);
  await createVolumeWithQemuImg({
    pool: pool.def,
    vol,
    ...(opts.preallocMetadata ? { preallocMetadata: true } : {}),
    ...(job.signal ? { signal: job.signal } : {}),
    ...(job.onProgress ? { onProgress: job.onProgress } : {}),
    secretDir: pool.scratchDir,
  });
}

/** How the data of a clone's source is reached (its backend may say). */
export async function volumeInputSource(input: VolumeInput): Promise<VolumeDiskSource> {
  return input.backend.volumeDiskSource ? input.backend.volumeDiskSource(input.pool, input.vol) : defaultVolumeDiskSource(input.vol);
}

/** Opens any volume source for positioned I/O: a path, a slice of a device, or a network volume through qemu-nbd. */
export async function openVolumeSource(src: VolumeDiskSource, mode: OpenMode, label: string): Promise<BlockTarget> {
  if (src.type === 'network') return openQemuTarget(src, mode, label);
  if (src.slice) return openSegmentsTarget([{ path: src.path, deviceOffset: src.slice.offset, volumeOffset: 0, length: src.slice.size }], mode, label);
  return openLocalTarget(src.path, mode);
}

/** The source's format as qemu-img names it. */
function inputFormatOf(input: VolumeInput): string {
  const f = input.vol.target.format;
  return !f || f === 'none' || f === 'iso' || input.vol.type === 'block' || input.vol.type === 'network' ? (f && f !== 'none' && f !== 'iso' ? f : 'raw') : f;
}

/**
 * Makes a volume in a folder as a copy of another (any pool type): a raw
 * copy by hand when both are raw (holes kept, progress per block), else
 * `qemu-img convert`. A failed or cancelled copy leaves no file.
 */
export async function buildLocalVolumeFrom(pool: StoragePoolObject, vol: StorageVolDef, input: VolumeInput, opts: VolumeCreateOptions, job: JobContext): Promise<void> {
  const path = vol.target.path!;
  const src = await volumeInputSource(input);
  const inFormat = inputFormatOf(input);
  if (vol.type === 'dir') throw new VirtError('NO_SUPPORT', `${what(vol)}: cannot clone into a directory volume`, { origin: 'storage' });
  if (isPlainRaw(vol) && inFormat === 'raw' && !input.vol.target.encryption && !opts.preallocMetadata) {
    if (opts.reflink) {
      if (src.type !== 'file' || src.slice) throw new VirtError('NO_SUPPORT', `${what(vol)}: reflink copies need a file source`, { origin: 'storage' });
      try {
        await runCommand(['cp', '--reflink=always', '--', src.path, path], { ...(job.signal ? { signal: job.signal } : {}), what: what(vol) });
        await (await open(path, 'r+')).truncate(Number(vol.capacity)).catch(() => {});
        await applyPerms(vol, path, DEFAULT_VOLUME_MODE);
      } catch (err) {
        await rm(path, { force: true });
        throw err;
      }
      return;
    }
    const from = await openVolumeSource(src, 'r', `storage volume '${input.vol.name}'`);
    try {
      const fh = await open(path, 'wx', vol.target.perms.mode ?? DEFAULT_VOLUME_MODE).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') throw new VirtError('STORAGE_VOL_EXIST', `${what(vol)}: '${path}' already exists`, { origin: 'storage' });
        throw new VirtError('SYSTEM_ERROR', `${what(vol)}: cannot create '${path}': ${err.message}`, { origin: 'storage', cause: err });
      });
      await fh.close();
      try {
        await applyPerms(vol, path, DEFAULT_VOLUME_MODE);
        const to = await openLocalTarget(path, 'rw');
        try {
          await copyTarget(from, to, from.size, job, what(vol), { skipZeros: true });
          if (to.truncate && BigInt(to.size) < vol.capacity) await to.truncate(Number(vol.capacity));
        } finally {
          await to.close();
        }
      } catch (err) {
        await rm(path, { force: true });
        throw err;
      }
    } finally {
      await from.close();
    }
    return;
  }
  const inputVol: StorageVolDef = {
    ...input.vol,
    type: input.vol.type === 'block' || input.vol.type === 'network' ? 'file' : input.vol.type,
    target: { ...input.vol.target, path: qemuFilename(src), format: inFormat },
  };
  await createVolumeWithQemuImg({
    pool: pool.def,
    vol,
    inputVol,
    inputPool: { ...input.pool.def, type: 'dir' },
    ...(opts.preallocMetadata ? { preallocMetadata: true } : {}),
    ...(job.signal ? { signal: job.signal } : {}),
    ...(job.onProgress ? { onProgress: job.onProgress } : {}),
    secretDir: pool.scratchDir,
  });
}

export async function deleteLocalVolume(vol: StorageVolDef, _opts: VolumeDeleteOptions = {}): Promise<void> {
  const path = vol.target.path!;
  try {
    if (vol.type === 'dir') await rmdir(path);
    else await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new VirtError('SYSTEM_ERROR', `${what(vol)}: cannot remove '${path}': ${(err as Error).message}`, { origin: 'storage', cause: err });
  }
}

/** libvirt's virStorageBackendFileSystemVolResize: raw files by truncate (+ fallocate), other formats by qemu-img. */
export async function resizeLocalVolume(pool: StoragePoolObject, vol: StorageVolDef, capacity: bigint, opts: VolumeResizeOptions, job: JobContext): Promise<void> {
  const path = vol.target.path!;
  const format = vol.target.format ?? 'raw';
  if (format === 'raw' && !vol.target.encryption) {
    const st = await stat(path);
    const fh = await open(path, 'r+');
    try {
      await fh.truncate(Number(capacity));
    } finally {
      await fh.close();
    }
    if (opts.allocate && capacity > BigInt(st.size)) await allocateFile(path, BigInt(st.size), capacity - BigInt(st.size), job, what(vol));
    return;
  }
  if (opts.allocate) throw new VirtError('CONFIG_UNSUPPORTED', `${what(vol)}: preallocate is only supported for raw type volume`, { origin: 'storage' });
  await resizeVolumeWithQemuImg({
    pool: pool.def,
    vol,
    capacity,
    ...(capacity < vol.capacity ? { shrink: true } : {}),
    ...(job.signal ? { signal: job.signal } : {}),
    secretDir: pool.scratchDir,
  });
}

export async function uploadLocalVolume(vol: StorageVolDef, source: Readable, opts: VolumeTransferOptions, job: JobContext): Promise<void> {
  const t = await openLocalTarget(vol.target.path!, 'rw');
  try {
    await uploadToTarget(t, source, opts, job, what(vol));
  } finally {
    await t.close();
  }
}

export async function downloadLocalVolume(vol: StorageVolDef, opts: VolumeTransferOptions, job: JobContext): Promise<Readable> {
  const t = await openLocalTarget(vol.target.path!, 'r');
  return downloadFromTarget(t, opts, job, what(vol));
}

/** Writes an empty image of the volume's format over a wiped file, so it stays a valid volume. */
async function recreateImage(pool: StoragePoolObject, vol: StorageVolDef, job: JobContext): Promise<void> {
  const argv = buildQemuImgCommand({ pool: pool.def, vol: { ...vol, allocation: 0n }, isReadable: () => true });
  await runQemuImg(argv, { ...(job.signal ? { signal: job.signal } : {}) });
}

/**
 * Wipes a file or block device: `zero` on a raw file empties it (holes, as
 * libvirt's sparse-file wipe), `trim` discards (fallocate --punch-hole /
 * blkdiscard), the others overwrite with their patterns. An image of
 * another format gets an empty header of that format back afterwards.
 */
export async function wipeLocalVolume(pool: StoragePoolObject, vol: StorageVolDef, algorithm: WipeAlgorithm, job: JobContext): Promise<void> {
  const path = vol.target.path!;
  if (vol.type === 'dir') throw new VirtError('NO_SUPPORT', `${what(vol)}: cannot wipe a directory volume`, { origin: 'storage' });
  const st = await stat(path);
  const isFile = st.isFile();
  const size = isFile ? st.size : Number((await blockDeviceSize(path)) ?? 0n);
  const format = vol.target.format ?? 'raw';
  if (algorithm === 'trim') {
    const argv = isFile ? ['fallocate', '--punch-hole', '--keep-size', '--offset', '0', '--length', String(size), path] : ['blkdiscard', path];
    progress(job, 0n, BigInt(size));
    await runCommand(argv, { what: what(vol), ...(job.signal ? { signal: job.signal } : {}) });
    progress(job, BigInt(size), BigInt(size));
  } else if (algorithm === 'zero' && isFile) {
    const fh = await open(path, 'r+');
    try {
      await fh.truncate(0);
      await fh.truncate(size);
    } finally {
      await fh.close();
    }
    progress(job, BigInt(size), BigInt(size));
  } else {
    const t = await openLocalTarget(path, 'rw');
    try {
      await wipeTarget(t, algorithm, size, job, what(vol));
    } finally {
      await t.close();
    }
  }
  if (isFile && format !== 'raw' && format !== 'iso') await recreateImage(pool, vol, job);
}
