import {
  VirtError,
  type JobContext,
  type PoolRefreshResult,
  type StoragePoolBackend,
  type StoragePoolDef,
  type StoragePoolObject,
  type StorageVolDef,
  type VolumeDiskSource,
} from '@virtkit/core';
import {
  TRANSFER_BLOCK,
  aborted,
  downloadFromTarget,
  openQemuTarget,
  probeImageHeader,
  qemuFilename,
  uploadToTarget,
  volumeInputSource,
  wipeTarget,
} from '@virtkit/storage-dir';
import { buildQemuImgCommand, buildQemuImgResizeCommand, runQemuImg, withProgressFlag } from '@virtkit/storage-volume-format';
import { Nfs3Client, NfsError, NFS3ERR_NOENT, type NfsAttrs } from './nfs3-client.js';

const ORIGIN = 'storage.netfs';
const HEADER_BYTES = 64 * 1024;

function exportOf(def: StoragePoolDef): { host: string; port?: number; dir: string } {
  const h = def.source.hosts[0];
  const dir = def.source.dir;
  if (!h || def.source.hosts.length !== 1) throw new VirtError('CONFIG_UNSUPPORTED', `storage pool '${def.name}': expected exactly 1 host for the storage pool`, { origin: ORIGIN });
  if (!dir) throw new VirtError('XML_ERROR', `storage pool '${def.name}': missing source path`, { origin: ORIGIN });
  return { host: h.name, ...(h.port ? { port: h.port } : {}), dir: dir.replace(/\/+$/, '') || '/' };
}

/** A volume's URL as QEMU and libnfs open it. */
export function nfsVolumeUrl(def: StoragePoolDef, name: string): string {
  const e = exportOf(def);
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  const dir = e.dir === '/' ? '' : e.dir;
  return `nfs://${host}${dir}/${encodeURIComponent(name)}`;
}

export function nfsDiskSource(def: StoragePoolDef, vol: StorageVolDef): VolumeDiskSource {
  const e = exportOf(def);
  return {
    type: 'network',
    protocol: 'nfs',
    name: `${e.dir === '/' ? '' : e.dir}/${vol.name}`,
    hosts: [{ name: e.host }],
    url: nfsVolumeUrl(def, vol.name),
    ...(vol.target.format ? { format: vol.target.format } : {}),
  };
}

/** Runs `fn` with the pool's export mounted by the NFSv3 client. */
export async function withExport<T>(def: StoragePoolDef, fn: (c: Nfs3Client) => Promise<T>): Promise<T> {
  const e = exportOf(def);
  const c = await Nfs3Client.mount(e.host, e.dir);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

function ts(t: { sec: bigint; nsec: number }) {
  return { sec: t.sec, nsec: t.nsec };
}

/** A volume from a file of the export (its header probed over NFS). */
async function volumeFromEntry(c: Nfs3Client, def: StoragePoolDef, name: string, handle: Buffer, attrs: NfsAttrs): Promise<StorageVolDef | undefined> {
  if (attrs.type !== 1) return undefined;
  const head = attrs.size > 0n ? await c.read(handle, 0n, Number(attrs.size < BigInt(HEADER_BYTES) ? attrs.size : BigInt(HEADER_BYTES))) : Buffer.alloc(0);
  const probe = probeImageHeader(head, attrs.size);
  const url = nfsVolumeUrl(def, name);
  const vol: StorageVolDef = {
    name,
    key: url,
    type: 'network',
    extents: [],
    capacity: probe.capacity,
    allocation: attrs.used,
    hasAllocation: true,
    physical: attrs.size,
    target: {
      path: url,
      format: probe.format === 'iso' ? 'iso' : probe.format,
      perms: { mode: attrs.mode & 0o7777, owner: attrs.uid, group: attrs.gid },
      timestamps: { atime: ts(attrs.atime), mtime: ts(attrs.mtime), ctime: ts(attrs.ctime) },
      nocow: false,
    },
  };
  if (probe.format === 'qcow2') {
    if (probe.compat) vol.target.compat = probe.compat;
    if (probe.clusterSize) vol.target.clusterSize = probe.clusterSize;
    if (probe.features) vol.target.features = probe.features;
  }
  if (probe.backingStore) vol.backingStore = { path: probe.backingStore.path, perms: {}, ...(probe.backingStore.format ? { format: probe.backingStore.format } : {}) };
  return vol;
}

export async function refreshUserspacePool(pool: StoragePoolObject): Promise<PoolRefreshResult> {
  return withExport(pool.def, async (c) => {
    const entries = await c.readdirplus();
    const volumes: StorageVolDef[] = [];
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      let handle = e.handle;
      let attrs = e.attrs;
      if (!handle || !attrs) {
        const l = await c.lookup(e.name).catch(() => undefined);
        if (!l?.attrs) continue;
        handle = l.handle;
        attrs = l.attrs;
      }
      const v = await volumeFromEntry(c, pool.def, e.name, handle, attrs);
      if (v) volumes.push(v);
    }
    const fs = await c.fsstat();
    return { capacity: fs.total, allocation: fs.total - fs.free, available: fs.available, volumes };
  });
}

async function removeQuietly(def: StoragePoolDef, name: string): Promise<void> {
  await withExport(def, (c) => c.remove(name)).catch(() => {});
}

/** Allocates the start of a raw volume by writing zeros to it (the server then holds real blocks). */
async function allocateOverNfs(def: StoragePoolDef, vol: StorageVolDef, bytes: bigint, job: JobContext): Promise<void> {
  const t = await openQemuTarget(nfsDiskSource(def, vol), 'rw', `storage volume '${vol.name}'`);
  try {
    const block = Buffer.alloc(TRANSFER_BLOCK);
    const total = Number(bytes);
    for (let pos = 0; pos < total; pos += block.length) {
      if (job.signal?.aborted) throw aborted(`storage volume '${vol.name}'`);
      const n = Math.min(block.length, total - pos);
      await t.write(pos, block.subarray(0, n));
      job.onProgress?.({ processed: pos + n, total });
    }
    await t.flush();
  } finally {
    await t.close();
  }
}

const qemuJob = (job: JobContext, progress: boolean) => ({
  ...(job.signal ? { signal: job.signal } : {}),
  ...(job.onProgress ? { onProgress: job.onProgress } : {}),
  ...(progress ? { progress: { kind: 'qemu-img' as const } } : {}),
});

/** Volume operations of a netfs pool reached in user space: NFSv3 for metadata, QEMU (libnfs) for images. */
export function userspaceVolumeOperations(): Pick<
  StoragePoolBackend,
  'createVol' | 'buildVol' | 'buildVolFrom' | 'refreshVol' | 'deleteVol' | 'resizeVol' | 'uploadVol' | 'downloadVol' | 'wipeVol' | 'volumeDiskSource'
> {
  return {
    async createVol(pool, vol) {
      if (vol.target.format === 'dir') throw new VirtError('NO_SUPPORT', `storage volume '${vol.name}': directory volumes need the kernel NFS client`, { origin: ORIGIN });
      if (vol.target.encryption) throw new VirtError('CONFIG_UNSUPPORTED', `storage volume '${vol.name}': encrypted volumes on NFS in user space are not supported`, { origin: ORIGIN });
      const exists = await withExport(pool.def, (c) => c.lookup(vol.name).then(() => true, (err) => (err instanceof NfsError && err.status === NFS3ERR_NOENT ? false : Promise.reject(err))));
      const url = nfsVolumeUrl(pool.def, vol.name);
      if (exists) throw new VirtError('OPERATION_INVALID', `storage volume '${vol.name}': volume target path '${url}' already exists`, { origin: ORIGIN });
      vol.type = 'network';
      vol.target.path = url;
      vol.key = url;
    },
    async buildVol(pool, vol, opts, job) {
      const total = Number(vol.capacity);
      job.onProgress?.({ processed: 0, total });
      // QEMU's nfs driver creates the file; it has no preallocation (the server allocates).
      const argv = buildQemuImgCommand({ pool: { ...pool.def, type: 'dir' }, vol: { ...vol, allocation: 0n }, ...(opts.preallocMetadata ? { preallocMetadata: true } : {}), isReadable: () => true });
      try {
        await runQemuImg(argv, qemuJob(job, false));
        await withExport(pool.def, async (c) => c.setattr((await c.lookup(vol.name)).handle, { mode: vol.target.perms.mode ?? 0o600 }));
        const format = vol.target.format ?? 'raw';
        const alloc = vol.allocation < vol.capacity ? vol.allocation : vol.capacity;
        if (format === 'raw' && alloc > 0n) await allocateOverNfs(pool.def, vol, alloc, job);
      } catch (err) {
        await removeQuietly(pool.def, vol.name);
        throw err;
      }
      job.onProgress?.({ processed: total, total });
    },
    async buildVolFrom(pool, vol, input, opts, job) {
      const src = await volumeInputSource(input);
      const inFormat = input.vol.target.format && input.vol.target.format !== 'none' && input.vol.target.format !== 'iso' ? input.vol.target.format : 'raw';
      const inputVol: StorageVolDef = { ...input.vol, type: 'file', target: { ...input.vol.target, path: qemuFilename(src), format: inFormat } };
      const argv = withProgressFlag(
        buildQemuImgCommand({
          pool: { ...pool.def, type: 'dir' },
          vol,
          inputVol,
          inputPool: { ...input.pool.def, type: 'dir' },
          ...(opts.preallocMetadata ? { preallocMetadata: true } : {}),
          isReadable: () => true,
        }),
      );
      try {
        await runQemuImg(argv, qemuJob(job, true));
        await withExport(pool.def, async (c) => c.setattr((await c.lookup(vol.name)).handle, { mode: vol.target.perms.mode ?? 0o600 }));
      } catch (err) {
        // The half-made copy is removed over NFS: qemu-img cannot.
        await removeQuietly(pool.def, vol.name);
        throw err;
      }
    },
    async refreshVol(pool, vol) {
      await withExport(pool.def, async (c) => {
        const { handle, attrs } = await c.lookup(vol.name);
        const fresh = await volumeFromEntry(c, pool.def, vol.name, handle, attrs ?? (await c.getattr(handle)));
        if (!fresh) throw new VirtError('NO_STORAGE_VOL', `storage volume '${vol.name}' is not a file`, { origin: ORIGIN });
        Object.assign(vol, { capacity: fresh.capacity, allocation: fresh.allocation, physical: fresh.physical, type: fresh.type });
        vol.target = { ...vol.target, ...fresh.target };
        if (fresh.backingStore) vol.backingStore = fresh.backingStore;
        else delete vol.backingStore;
      });
    },
    async deleteVol(pool, vol) {
      await withExport(pool.def, (c) =>
        c.remove(vol.name).catch((err) => {
          if (!(err instanceof NfsError && err.status === NFS3ERR_NOENT)) throw err;
        }),
      );
    },
    async resizeVol(pool, vol, capacity, opts, job) {
      if (opts.allocate) throw new VirtError('CONFIG_UNSUPPORTED', `storage volume '${vol.name}': preallocation is not possible on NFS in user space`, { origin: ORIGIN });
      const argv = buildQemuImgResizeCommand({ pool: { ...pool.def, type: 'dir' }, vol, capacity, ...(capacity < vol.capacity ? { shrink: true } : {}) });
      // `qemu-img resize` probes the format; say it, a raw file must not be guessed.
      argv.splice(2, 0, '-f', vol.target.format ?? 'raw');
      await runQemuImg(argv, qemuJob(job, false));
    },
    async uploadVol(pool, vol, source, opts, job) {
      const t = await openQemuTarget(nfsDiskSource(pool.def, vol), 'rw', `storage volume '${vol.name}'`);
      try {
        await uploadToTarget(t, source, opts, job, `storage volume '${vol.name}'`);
      } finally {
        await t.close();
      }
    },
    async downloadVol(pool, vol, opts, job) {
      return downloadFromTarget(await openQemuTarget(nfsDiskSource(pool.def, vol), 'r', `storage volume '${vol.name}'`), opts, job, `storage volume '${vol.name}'`);
    },
    async wipeVol(pool, vol, algorithm, job) {
      if (algorithm === 'trim') throw new VirtError('ARGUMENT_UNSUPPORTED', `storage volume '${vol.name}': 'trim' is not possible on NFS in user space`, { origin: ORIGIN });
      const t = await openQemuTarget(nfsDiskSource(pool.def, vol), 'rw', `storage volume '${vol.name}'`);
      try {
        await wipeTarget(t, algorithm, t.size, job, `storage volume '${vol.name}'`);
      } finally {
        await t.close();
      }
      const format = vol.target.format ?? 'raw';
      if (format !== 'raw' && format !== 'iso') {
        // Give the wiped image an empty header of its format back.
        await runQemuImg(buildQemuImgCommand({ pool: { ...pool.def, type: 'dir' }, vol: { ...vol, allocation: 0n }, isReadable: () => true }), qemuJob(job, false));
      }
    },
    volumeDiskSource(pool, vol) {
      return nfsDiskSource(pool.def, vol);
    },
  };
}
