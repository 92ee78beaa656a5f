import { chmod, chown, lstat, rm, stat } from 'node:fs/promises';
import { VirtError, type StoragePoolDef, type StorageVolDef } from '@virtkit/core';
import { buildQemuImgCommand, type QemuImgCommandOptions } from './qemu-img-command.js';
import { buildQemuImgResizeCommand } from './qemu-img-resize.js';
import { parseQemuImgInfo, type QemuImgInfo } from './qemu-img-info.js';
import { runQemuImg, withProgressFlag, type JobProgress } from './run-qemu-img.js';
import { withSecretFiles } from './secret-file.js';

const LUKS_BENCHMARK_FAILURE = 'Unable to get accurate CPU usage';
// On a busy machine the benchmark can fail several times in a row.
const LUKS_BENCHMARK_ATTEMPTS = 6;

/** libvirt's VIR_STORAGE_DEFAULT_VOL_PERM_MODE. */
export const DEFAULT_VOLUME_MODE = 0o600;

export interface QemuImgJobOptions {
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  tool?: string;
  /** Folder for the short-lived passphrase files (default: the OS temp folder). */
  secretDir?: string;
}

export interface CreateVolumeOptions extends QemuImgJobOptions {
  pool: StoragePoolDef;
  vol: StorageVolDef;
  inputVol?: StorageVolDef;
  inputPool?: StoragePoolDef;
  preallocMetadata?: boolean;
  /** Passphrase of an encrypted volume (the value of its <secret>). */
  secret?: string | Uint8Array;
  /** Passphrase of an encrypted input volume. */
  inputSecret?: string | Uint8Array;
  isReadable?: QemuImgCommandOptions['isReadable'];
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Applies the volume's <permissions> as libvirt does after qemu-img made the file. */
async function applyPerms(vol: StorageVolDef, path: string): Promise<void> {
  const st = await stat(path);
  const mode = vol.target.perms.mode ?? DEFAULT_VOLUME_MODE;
  const uid = vol.target.perms.owner !== undefined && vol.target.perms.owner !== st.uid ? vol.target.perms.owner : -1;
  const gid = vol.target.perms.group !== undefined && vol.target.perms.group !== st.gid ? vol.target.perms.group : -1;
  if (uid !== -1 || gid !== -1) await chown(path, uid, gid);
  if ((st.mode & 0o777) !== mode) await chmod(path, mode);
}

/**
 * Creates (or, with `inputVol`, clones/converts into) a volume with
 * qemu-img, as libvirt's storageBackendCreateQemuImg: one command, or
 * create + convert for encrypted conversions. A file volume that does not
 * exist yet is removed again when the job fails or is cancelled.
 */
export async function createVolumeWithQemuImg(o: CreateVolumeOptions): Promise<void> {
  const { vol, inputVol } = o;
  const path = vol.target.path;
  const what = `storage volume '${vol.name}'`;
  if (path === undefined) throw new VirtError('INVALID_ARG', `${what}: missing target path`, { origin: 'storage' });
  if (vol.target.encryption && o.secret === undefined) {
    throw new VirtError('INVALID_ARG', `${what}: an encrypted volume needs its passphrase`, { origin: 'storage' });
  }
  if (inputVol?.target.encryption && o.inputSecret === undefined) {
    throw new VirtError('INVALID_ARG', `${what}: the encrypted input volume '${inputVol.name}' needs its passphrase`, { origin: 'storage' });
  }
  const ownsFile = vol.type !== 'block';
  if (ownsFile && (await exists(path))) {
    throw new VirtError('STORAGE_VOL_EXIST', `${what}: '${path}' already exists`, { origin: 'storage' });
  }
  const cleanupPaths = ownsFile ? [path] : [];
  const twoStep = !!inputVol && (!!vol.target.encryption || !!inputVol.target.encryption);
  const total = Number(vol.capacity);

  await withSecretFiles(
    [o.secret, o.inputSecret],
    async ([secretPath, inputSecretPath]) => {
      const base: QemuImgCommandOptions = {
        pool: o.pool,
        vol,
        ...(inputVol ? { inputVol, inputPool: o.inputPool ?? o.pool } : {}),
        ...(o.preallocMetadata ? { preallocMetadata: true } : {}),
        ...(o.tool ? { tool: o.tool } : {}),
        ...(secretPath ? { secretPath } : {}),
        ...(inputSecretPath ? { inputSecretPath } : {}),
        ...(o.isReadable ? { isReadable: o.isReadable } : {}),
      };
      // Build every step first, so a refusal happens before anything is made.
      const steps = twoStep
        ? [buildQemuImgCommand({ ...base, convertStep: 'create' }), buildQemuImgCommand({ ...base, convertStep: 'convert' })]
        : [buildQemuImgCommand({ ...base, convertStep: 'none' })];
      for (const argv of steps) {
        const isConvert = argv[1] === 'convert';
        for (let attempt = 1; ; attempt++) {
          try {
            await runQemuImg(isConvert ? withProgressFlag(argv) : argv, {
              ...(o.signal ? { signal: o.signal } : {}),
              ...(o.onProgress ? { onProgress: o.onProgress } : {}),
              progress: isConvert ? { kind: 'qemu-img' } : { kind: 'file-size', path, total },
              cleanupPaths,
            });
            break;
          } catch (err) {
            // qemu's LUKS key-derivation benchmark fails now and then on VMs with coarse
            // CPU accounting; a create starts from nothing (the file was removed), so retry it.
            const transient = !isConvert && err instanceof VirtError && err.message.includes(LUKS_BENCHMARK_FAILURE);
            if (!transient || attempt >= LUKS_BENCHMARK_ATTEMPTS || o.signal?.aborted) throw err;
            await new Promise((r) => setTimeout(r, 100 * attempt));
          }
        }
      }
      if (ownsFile) {
        try {
          await applyPerms(vol, path);
        } catch (err) {
          await runCleanup(cleanupPaths);
          throw new VirtError('SYSTEM_ERROR', `${what}: cannot set permissions of '${path}': ${(err as Error).message}`, {
            origin: 'storage',
            cause: err,
          });
        }
      }
    },
    o.secretDir,
  );
}

async function runCleanup(paths: string[]): Promise<void> {
  for (const p of paths) await rm(p, { force: true }).catch(() => {});
}

export interface ResizeVolumeOptions extends QemuImgJobOptions {
  pool: StoragePoolDef;
  vol: StorageVolDef;
  capacity: bigint;
  shrink?: boolean;
  secret?: string | Uint8Array;
}

/** `qemu-img resize` of a volume (encrypted ones through their secret). */
export async function resizeVolumeWithQemuImg(o: ResizeVolumeOptions): Promise<void> {
  await withSecretFiles(
    [o.secret],
    async ([secretPath]) => {
      const argv = buildQemuImgResizeCommand({
        pool: o.pool,
        vol: o.vol,
        capacity: o.capacity,
        ...(o.shrink ? { shrink: true } : {}),
        ...(secretPath ? { secretPath } : {}),
        ...(o.tool ? { tool: o.tool } : {}),
      });
      await runQemuImg(argv, { ...(o.signal ? { signal: o.signal } : {}) });
    },
    o.secretDir,
  );
}

export interface QemuImgInfoOptions {
  /** Image format, to stop qemu-img probing (safer for untrusted images). */
  format?: string;
  backingChain?: boolean;
  signal?: AbortSignal;
  tool?: string;
}

/** `qemu-img info --output=json`, parsed. */
export async function qemuImgInfo(path: string, o: QemuImgInfoOptions = {}): Promise<QemuImgInfo> {
  const argv = [o.tool ?? 'qemu-img', 'info', '--output=json'];
  if (o.format) argv.push('-f', o.format);
  if (o.backingChain) argv.push('--backing-chain');
  argv.push(path);
  const { stdout } = await runQemuImg(argv, { ...(o.signal ? { signal: o.signal } : {}) });
  return parseQemuImgInfo(stdout);
}
