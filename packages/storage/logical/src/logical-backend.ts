import { open } from 'node:fs/promises';
import {
  VirtError,
  formatStoragePoolSourceListXml,
  type JobContext,
  type PoolBuildOptions,
  type StoragePoolBackend,
  type StoragePoolDef,
  type StoragePoolObject,
  type StorageVolDef,
  type VolumeDiskSource,
  type VolumeInput,
} from '@virtkit/core';
import {
  copyTarget,
  downloadFromTarget,
  openLocalTarget,
  openSegmentsTarget,
  openVolumeSource,
  probeDeviceFormat,
  qemuFilename,
  qemuRawImageOpts,
  runCommand,
  uploadToTarget,
  volumeInputSource,
  wipeTarget,
  type BlockTarget,
  type OpenMode,
} from '@virtkit/storage-dir';
import { runQemuImg, withProgressFlag } from '@virtkit/storage-volume-format';
import {
  activationEnabled,
  buildFindSourcesCommand,
  buildLvcreateCommand,
  buildLvremoveCommand,
  buildLvresizeCommand,
  buildLvsCommand,
  buildPvcreateCommand,
  buildPvremoveCommand,
  buildPvsCommand,
  buildVgcreateCommand,
  buildVgremoveCommand,
  buildVgsCommand,
  vgName,
} from './lvm-commands.js';
import { buildVgchangeCommand } from './vgchange-command.js';
import { parseLvs, parsePvs, parseVgs, sourcesFromPvs, volumesFromLvs, type LvSegment } from './lvs-parse.js';

const ORIGIN = 'storage.logical';

function fail(code: VirtError['code'], pool: StoragePoolDef, message: string): VirtError {
  return new VirtError(code, `storage pool '${pool.name}': ${message}`, { origin: ORIGIN });
}

const run = (pool: StoragePoolDef, argv: string[], o: { signal?: AbortSignal; allowFailure?: boolean } = {}) =>
  runCommand(argv, { what: `storage pool '${pool.name}'`, origin: ORIGIN, ...o });

/** The group's physical volumes and where their data areas start. */
async function physicalVolumes(pool: StoragePoolDef, activation: boolean): Promise<Array<{ device: string; peStart: bigint }>> {
  const vg = vgName(pool);
  const { stdout } = await run(pool, buildPvsCommand(pool, activation));
  return parsePvs(stdout).filter((p) => p.vg === vg);
}

/** The pool's volumes (all, or one) with their segments on the physical volumes. */
async function listVolumes(pool: StoragePoolDef, activation: boolean, lv?: string): Promise<Array<{ vol: StorageVolDef; segments: LvSegment[] | undefined }>> {
  const [lvs, pvs] = await Promise.all([run(pool, buildLvsCommand(pool, activation, lv)), physicalVolumes(pool, activation)]);
  return volumesFromLvs(parseLvs(lvs.stdout), vgName(pool), new Map(pvs.map((p) => [p.device, p.peStart])));
}

/** Opens a logical volume's bytes: its device node when LVM activates volumes, else its extents on the physical volumes. */
async function openVolumeData(pool: StoragePoolDef, vol: StorageVolDef, mode: OpenMode): Promise<BlockTarget> {
  const activation = activationEnabled(pool);
  if (activation) return openLocalTarget(vol.target.path!, mode);
  const [found] = await listVolumes(pool, activation, vol.name);
  if (!found) throw new VirtError('NO_STORAGE_VOL', `storage volume '${vol.name}' is not in volume group '${vgName(pool)}'`, { origin: ORIGIN });
  if (!found.segments?.length) {
    throw new VirtError('NO_SUPPORT', `storage volume '${vol.name}': striped volumes cannot be read without device-mapper`, { origin: ORIGIN });
  }
  return openSegmentsTarget(
    found.segments.map((s) => ({ path: s.device, deviceOffset: Number(s.deviceOffset), volumeOffset: Number(s.volumeOffset), length: Number(s.length) })),
    mode,
    `storage volume '${vol.name}'`,
  );
}

async function zeroHead(device: string, bytes: number): Promise<void> {
  const fh = await open(device, 'r+');
  try {
    await fh.write(Buffer.alloc(bytes), 0, bytes, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * libvirt's virStorageBackendLogicalBuildPool: every source device is
 * checked empty (unless `overwrite`), its first MiB zeroed, made a
 * physical volume, then the group is created on them. A failure removes
 * the labels it wrote.
 */
async function buildPool(pool: StoragePoolObject, opts: PoolBuildOptions, job: JobContext): Promise<void> {
  const def = pool.def;
  const activation = activationEnabled(def);
  if (opts.overwrite && opts.noOverwrite) throw fail('INVALID_ARG', def, '--overwrite and --no-overwrite are mutually exclusive');
  const devices = def.source.devices.map((d) => d.path);
  if (devices.length === 0) throw fail('XML_ERROR', def, 'missing source device: a logical pool is built on one or more devices');
  if (!opts.overwrite) {
    for (const d of devices) {
      const found = await probeDeviceFormat(d);
      if (found) throw fail('STORAGE_POOL_BUILT', def, `device '${d}' already formatted using '${found}'`);
    }
  }
  const labelled: string[] = [];
  try {
    for (const d of devices) {
      await zeroHead(d, 1 << 20);
      await run(def, buildPvcreateCommand(d, activation), job.signal ? { signal: job.signal } : {});
      labelled.push(d);
    }
    await run(def, buildVgcreateCommand(def, devices, activation), job.signal ? { signal: job.signal } : {});
  } catch (err) {
    for (const d of labelled) await run(def, buildPvremoveCommand(d, activation), { allowFailure: true });
    throw err;
  }
}

/** The group exists and is made of the pool's devices (virStorageBackendLogicalMatchPoolSource). */
async function checkSource(def: StoragePoolDef, activation: boolean): Promise<void> {
  const vg = vgName(def);
  const pvs = await physicalVolumes(def, activation);
  if (pvs.length === 0) throw fail('OPERATION_INVALID', def, `cannot find logical volume group name '${vg}'`);
  const want = def.source.devices.map((d) => d.path);
  if (want.length && !want.some((w) => pvs.some((p) => p.device === w))) {
    throw fail('OPERATION_INVALID', def, `cannot find any matching source devices for logical volume group '${vg}'`);
  }
}

/** Where a clone's data comes from: a raw byte source, or an image qemu-img must convert. */
async function copyInto(pool: StoragePoolDef, vol: StorageVolDef, input: VolumeInput, job: JobContext): Promise<void> {
  const src = await volumeInputSource(input);
  const format = input.vol.target.format && input.vol.target.format !== 'none' ? input.vol.target.format : 'raw';
  if (format === 'raw' || format === 'iso') {
    const from = await openVolumeSource(src, 'r', `storage volume '${input.vol.name}'`);
    try {
      const to = await openVolumeData(pool, vol, 'rw');
      try {
        if (BigInt(from.size) > BigInt(to.size)) throw new VirtError('INVALID_ARG', `storage volume '${vol.name}' is smaller than its source`, { origin: ORIGIN });
        await copyTarget(from, to, from.size, job, `storage volume '${vol.name}'`);
      } finally {
        await to.close();
      }
    } finally {
      await from.close();
    }
    return;
  }
  // An image (qcow2, vmdk, …) is converted into the volume's raw bytes.
  const targetSrc: VolumeDiskSource = activationEnabled(pool) ? { type: 'block', path: vol.target.path! } : await sliceSource(pool, vol);
  const argv = withProgressFlag(['qemu-img', 'convert', '-n', '-f', format, qemuFilename(src), '--target-image-opts', qemuRawImageOpts(targetSrc)]);
  await runQemuImg(argv, { ...(job.signal ? { signal: job.signal } : {}), ...(job.onProgress ? { onProgress: job.onProgress } : {}), progress: { kind: 'qemu-img' } });
}

/** A single-segment volume as a slice of its physical volume. */
async function sliceSource(pool: StoragePoolDef, vol: StorageVolDef): Promise<VolumeDiskSource & { type: 'block' }> {
  const [found] = await listVolumes(pool, false, vol.name);
  const segs = found?.segments;
  if (!segs || segs.length !== 1) {
    throw new VirtError('NO_SUPPORT', `storage volume '${vol.name}' spans ${segs?.length ?? 'striped'} segments: without device-mapper only single-segment volumes can be opened by a hypervisor`, {
      origin: ORIGIN,
    });
  }
  return { type: 'block', path: segs[0]!.device, format: 'raw', slice: { offset: Number(segs[0]!.deviceOffset), size: Number(segs[0]!.length) } };
}

/** A `logical` pool: an LVM volume group (libvirt's storage_backend_logical.c). */
export function createLogicalBackend(): StoragePoolBackend {
  return {
    type: 'logical',
    async findPoolSources() {
      // LVM scans every device itself; activation does not matter for reading labels.
      const { stdout } = await runCommand(buildFindSourcesCommand(false), { what: 'find-storage-pool-sources logical', origin: ORIGIN });
      return formatStoragePoolSourceListXml(sourcesFromPvs(stdout));
    },
    async checkPool(pool) {
      return physicalVolumes(pool.def, activationEnabled(pool.def)).then((p) => p.length > 0, () => false);
    },
    buildPool,
    async startPool(pool) {
      const activation = activationEnabled(pool.def);
      await checkSource(pool.def, activation);
      if (activation) await run(pool.def, buildVgchangeCommand(pool.def, true));
      pool.state.activation = activation;
    },
    async refreshPool(pool) {
      const activation = activationEnabled(pool.def);
      const [vgs, vols] = await Promise.all([run(pool.def, buildVgsCommand(pool.def, activation)), listVolumes(pool.def, activation)]);
      const { size, free } = parseVgs(vgs.stdout);
      return { capacity: size, allocation: size - free, available: free, volumes: vols.map((v) => v.vol) };
    },
    async stopPool(pool) {
      if (activationEnabled(pool.def)) await run(pool.def, buildVgchangeCommand(pool.def, false));
    },
    async deletePool(pool) {
      const def = pool.def;
      const activation = activationEnabled(def);
      await run(def, buildVgremoveCommand(def, activation));
      for (const d of def.source.devices) await run(def, buildPvremoveCommand(d.path, activation));
    },
    async createVol(pool, vol) {
      if (vol.target.encryption) throw new VirtError('CONFIG_UNSUPPORTED', `storage volume '${vol.name}': encrypted logical volumes are not supported`, { origin: ORIGIN });
      if (vol.target.format && vol.target.format !== 'raw' && vol.target.format !== 'none') {
        throw new VirtError('CONFIG_UNSUPPORTED', `storage volume '${vol.name}': logical volumes hold raw data, not '${vol.target.format}'`, { origin: ORIGIN });
      }
      vol.type = 'block';
      vol.target.path = `/dev/${vgName(pool.def)}/${vol.name}`;
      delete vol.target.format;
    },
    async buildVol(pool, vol, _opts, job) {
      const total = Number(vol.capacity);
      job.onProgress?.({ processed: 0, total });
      await run(pool.def, buildLvcreateCommand(pool.def, vol, activationEnabled(pool.def)), job.signal ? { signal: job.signal } : {});
      job.onProgress?.({ processed: total, total });
    },
    async buildVolFrom(pool, vol, input, _opts, job) {
      const activation = activationEnabled(pool.def);
      await run(pool.def, buildLvcreateCommand(pool.def, { ...vol, hasAllocation: false, allocation: vol.capacity }, activation));
      try {
        await copyInto(pool.def, vol, input, job);
      } catch (err) {
        await run(pool.def, buildLvremoveCommand(pool.def, vol, activation), { allowFailure: true });
        throw err;
      }
    },
    async refreshVol(pool, vol) {
      const [found] = await listVolumes(pool.def, activationEnabled(pool.def), vol.name);
      if (!found) throw new VirtError('NO_STORAGE_VOL', `storage volume '${vol.name}' is not in volume group '${vgName(pool.def)}'`, { origin: ORIGIN });
      Object.assign(vol, { key: found.vol.key, type: found.vol.type, capacity: found.vol.capacity, allocation: found.vol.allocation, extents: found.vol.extents });
      vol.target.path = found.vol.target.path;
    },
    async deleteVol(pool, vol) {
      const activation = activationEnabled(pool.def);
      if (activation) await run(pool.def, ['lvchange', '-aln', `${vgName(pool.def)}/${vol.name}`], { allowFailure: true });
      await run(pool.def, buildLvremoveCommand(pool.def, vol, activation));
    },
    async resizeVol(pool, vol, capacity) {
      await run(pool.def, buildLvresizeCommand(pool.def, vol, capacity, activationEnabled(pool.def)));
    },
    async uploadVol(pool, vol, source, opts, job) {
      const t = await openVolumeData(pool.def, vol, 'rw');
      try {
        await uploadToTarget(t, source, opts, job, `storage volume '${vol.name}'`);
      } finally {
        await t.close();
      }
    },
    async downloadVol(pool, vol, opts, job) {
      return downloadFromTarget(await openVolumeData(pool.def, vol, 'r'), opts, job, `storage volume '${vol.name}'`);
    },
    async wipeVol(pool, vol, algorithm, job) {
      if (algorithm === 'trim') {
        if (!activationEnabled(pool.def)) {
          throw new VirtError('ARGUMENT_UNSUPPORTED', `storage volume '${vol.name}': 'trim' needs the volume's device node (LVM activation is off)`, { origin: ORIGIN });
        }
        job.onProgress?.({ processed: 0, total: Number(vol.capacity) });
        await runCommand(['blkdiscard', vol.target.path!], { what: `storage volume '${vol.name}'`, origin: ORIGIN, ...(job.signal ? { signal: job.signal } : {}) });
        job.onProgress?.({ processed: Number(vol.capacity), total: Number(vol.capacity) });
        return;
      }
      const t = await openVolumeData(pool.def, vol, 'rw');
      try {
        await wipeTarget(t, algorithm, t.size, job, `storage volume '${vol.name}'`);
      } finally {
        await t.close();
      }
    },
    async volumeDiskSource(pool, vol) {
      if (activationEnabled(pool.def)) return { type: 'block', path: vol.target.path!, format: 'raw' };
      return sliceSource(pool.def, vol);
    },
  };
}
