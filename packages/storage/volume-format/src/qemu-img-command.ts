import { accessSync, constants } from 'node:fs';
import { VirtError, type ErrorCode, type StorageEncryptionInfo, type StoragePoolDef, type StorageVolDef } from '@virtkit/core';
import { FMT, fileFormatName, formatNumber } from './formats.js';

/**
 * qemu-img command lines for creating and converting volumes, built as
 * libvirt's virStorageBackendCreateQemuImgCmdFromVol builds them
 * (storage_util.c), as argv arrays.
 */

/** Which half of an encrypted conversion is built (VIR_STORAGE_VOL_ENCRYPT_*). */
export type QemuImgConvertStep = 'none' | 'create' | 'convert';

export interface QemuImgCommandOptions {
  pool: StoragePoolDef;
  vol: StorageVolDef;
  /** Source of a clone/convert, with the pool it lives in. */
  inputVol?: StorageVolDef;
  inputPool?: StoragePoolDef;
  /** VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA. */
  preallocMetadata?: boolean;
  /** The qemu-img binary (default 'qemu-img', found on PATH when run). */
  tool?: string;
  /** File holding the volume's LUKS passphrase (required when it is encrypted). */
  secretPath?: string;
  /** File holding the input volume's passphrase (required when it is encrypted). */
  inputSecretPath?: string;
  convertStep?: QemuImgConvertStep;
  /** Checks that a backing file is readable (default: access(R_OK), as libvirt). */
  isReadable?: (path: string) => boolean;
}

function fail(code: ErrorCode, vol: StorageVolDef, message: string): VirtError {
  return new VirtError(code, `storage volume '${vol.name}': ${message}`, { origin: 'storage' });
}

/** virQEMUBuildBufferEscapeComma: a comma inside an option value is doubled. */
export function escapeComma(s: string): string {
  return s.replace(/,/g, ',,');
}

const defaultIsReadable = (path: string): boolean => {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
};

/** storageBackendBuildQemuImgEncriptionOpts: `key-secret=…` and the LUKS cipher settings. */
function encryptionOpts(format: number, info: StorageEncryptionInfo | undefined, alias: string): string[] {
  const out: string[] = [];
  const p = format === FMT.QCOW2 ? 'encrypt.' : '';
  if (format === FMT.QCOW2) out.push('encrypt.format=luks');
  out.push(`${p}key-secret=${alias}`);
  if (!info) return out;
  out.push(`${p}cipher-alg=${escapeComma(info.cipherName)}-${info.cipherSize}`);
  if (info.cipherMode !== undefined) out.push(`${p}cipher-mode=${escapeComma(info.cipherMode)}`);
  if (info.cipherHash !== undefined) out.push(`${p}hash-alg=${escapeComma(info.cipherHash)}`);
  if (info.ivgenName === undefined) return out;
  out.push(`${p}ivgen-alg=${escapeComma(info.ivgenName)}`);
  if (info.ivgenHash !== undefined) out.push(`${p}ivgen-hash-alg=${escapeComma(info.ivgenHash)}`);
  return out;
}

const divUp = (n: bigint, d: bigint): bigint => (n + d - 1n) / d;

/** Builds one qemu-img command (create, convert, or one half of an encrypted conversion). */
export function buildQemuImgCommand(o: QemuImgCommandOptions): string[] {
  const { pool, vol, inputVol } = o;
  const step = o.convertStep ?? 'none';
  const inputPool = o.inputPool ?? pool;
  const enc = vol.target.encryption;
  const inputEnc = inputVol?.target.encryption;
  const preallocate = !!o.preallocMetadata;
  const volFormat = formatNumber(pool, vol.target.format);

  if (enc && (enc.format === 'qcow' || enc.format === 'default') && (volFormat === FMT.QCOW || volFormat === FMT.QCOW2)) {
    throw fail('CONFIG_UNSUPPORTED', vol, 'creation of qcow2 encrypted image is not supported');
  }
  if (inputEnc && inputEnc.format !== 'luks') throw fail('CONFIG_UNSUPPORTED', vol, 'encryption format of inputvol must be LUKS');

  // virStorageBackendCreateQemuImgSetInfo
  let format = volFormat;
  if (vol.type === 'block') format = FMT.RAW;
  if (format === FMT.ISO) format = FMT.RAW;
  let type: string | undefined = fileFormatName(format);
  if (!type) throw fail('INTERNAL_ERROR', vol, `unknown storage vol type ${format}`);
  let inputType: string | undefined;
  let inputFormatNum = 0;
  if (inputVol) {
    inputFormatNum = formatNumber(inputPool, inputVol.target.format);
    inputType = fileFormatName(inputFormatNum);
    if (!inputType) throw fail('INTERNAL_ERROR', vol, `unknown inputvol storage vol type ${inputFormatNum}`);
  }
  const compat = vol.target.compat;
  const features = vol.target.features;
  if (preallocate && format !== FMT.QCOW2) throw fail('CONFIG_UNSUPPORTED', vol, 'metadata preallocation only available with qcow2');
  if (compat !== undefined && format !== FMT.QCOW2) throw fail('CONFIG_UNSUPPORTED', vol, 'compatibility option only available with qcow2');
  if (features && format !== FMT.QCOW2) throw fail('CONFIG_UNSUPPORTED', vol, 'format features only available with qcow2');
  if (format === FMT.RAW && enc) {
    if (enc.format !== 'luks') throw fail('INTERNAL_ERROR', vol, 'Only luks encryption is supported for raw files');
    type = 'luks';
  }
  if (inputVol && inputFormatNum === FMT.RAW && inputEnc) {
    if (inputEnc.format !== 'luks') throw fail('INTERNAL_ERROR', vol, 'Only luks encryption is supported for raw files');
    inputType = 'luks';
  }

  // storageBackendCreateQemuImgSetInput
  let inputPath: string | undefined;
  let inputFormatStr: string | undefined;
  if (inputVol) {
    if (step !== 'create') {
      inputPath = inputVol.target.path;
      if (inputPath === undefined) throw fail('INVALID_ARG', vol, 'missing input volume target path');
    }
    let f = inputFormatNum;
    if (inputVol.type === 'block') f = FMT.RAW;
    if (f === FMT.ISO) f = FMT.RAW;
    inputFormatStr = fileFormatName(f);
    if (!inputFormatStr) throw fail('INTERNAL_ERROR', vol, `unknown storage vol type ${f}`);
  }

  // storageBackendCreateQemuImgSetBacking
  let backingPath: string | undefined;
  let backingFormat: string | undefined;
  const bs = vol.backingStore;
  if (bs) {
    if (format === FMT.RAW) throw fail('CONFIG_UNSUPPORTED', vol, 'cannot set backing store for raw volume');
    backingPath = bs.path;
    const bf = formatNumber(pool, bs.format);
    if (preallocate) throw fail('CONFIG_UNSUPPORTED', vol, 'metadata preallocation conflicts with backing store');
    const inputBacking = inputVol?.backingStore;
    if (inputBacking && inputBacking.path !== backingPath) {
      throw fail('INTERNAL_ERROR', vol, 'a different backing store cannot be specified.');
    }
    backingFormat = fileFormatName(bf);
    if (!backingFormat) throw fail('INTERNAL_ERROR', vol, `unknown storage vol backing store type ${bf}`);
    const abs = backingPath.startsWith('/') ? backingPath : `${pool.target?.path}/${backingPath}`;
    if (!(o.isReadable ?? defaultIsReadable)(abs)) {
      throw fail('SYSTEM_ERROR', vol, `inaccessible backing store volume ${backingPath}`);
    }
  }

  // storageBackendCreateQemuImgCheckEncryption
  if (enc) {
    if (format === FMT.RAW || format === FMT.QCOW2) {
      if (enc.format !== 'luks') throw fail('CONFIG_UNSUPPORTED', vol, `unsupported volume encryption format ${enc.format}`);
      if (enc.secrets.length > 1) throw fail('XML_ERROR', vol, 'too many secrets for luks encryption');
      if (enc.secrets.length === 0) throw fail('XML_ERROR', vol, 'no secret provided for luks encryption');
    } else throw fail('CONFIG_UNSUPPORTED', vol, `volume encryption unsupported with format ${type}`);
  }

  const sizeArg = divUp(vol.capacity, 1024n);
  const allocation = divUp(vol.allocation, 1024n);

  const cmd = [o.tool ?? 'qemu-img'];
  // A conversion copies the input; its backing file is not ours to set.
  if (inputPath !== undefined || step === 'create') backingPath = undefined;

  if (inputPath !== undefined && step === 'none') cmd.push('convert', '-f', inputFormatStr!, '-O', type);
  else if (inputPath !== undefined && step === 'convert') cmd.push('convert', '--image-opts', '-n', '--target-image-opts');
  else cmd.push('create', '-f', type);

  if (backingPath !== undefined) cmd.push('-b', backingPath);

  let secretAlias: string | undefined;
  if (enc) {
    if (o.secretPath === undefined) throw fail('INTERNAL_ERROR', vol, 'path to secret data file is required');
    secretAlias = `${vol.name}_encrypt0`;
    cmd.push('--object', `secret,id=${secretAlias},file=${escapeComma(o.secretPath)}`);
  }
  let inputSecretAlias: string | undefined;
  if (inputEnc && step === 'convert') {
    if (o.inputSecretPath === undefined) throw fail('INTERNAL_ERROR', vol, 'path to inputvol secret data file is required');
    inputSecretAlias = `${inputVol!.name}_encrypt0`;
    cmd.push('--object', `secret,id=${inputSecretAlias},file=${escapeComma(o.inputSecretPath)}`);
  }

  const path = vol.target.path;
  if (path === undefined) throw fail('INVALID_ARG', vol, 'missing target path');
  if (step !== 'convert') {
    // storageBackendCreateQemuImgOpts
    const opts: string[] = [];
    if (backingPath !== undefined) opts.push(`backing_fmt=${backingFormat}`);
    if (enc) opts.push(...encryptionOpts(format, enc.info, secretAlias!));
    if (preallocate) opts.push(sizeArg > allocation ? 'preallocation=metadata' : 'preallocation=falloc');
    if (vol.target.nocow) opts.push('nocow=on');
    if (compat !== undefined) opts.push(`compat=${compat}`);
    else if (format === FMT.QCOW2) opts.push('compat=0.10');
    if (vol.target.clusterSize && vol.target.clusterSize > 0n) opts.push(`cluster_size=${vol.target.clusterSize}`);
    if (features && format === FMT.QCOW2) {
      for (const [feature, opt] of [['lazy_refcounts', 'lazy_refcounts'], ['extended_l2', 'extended_l2=on']] as const) {
        if (!features.includes(feature)) continue;
        if (compat === '0.10') throw fail('CONFIG_UNSUPPORTED', vol, `'${feature}' not supported with compat level ${compat}`);
        opts.push(opt);
      }
    }
    const joined = opts.join(',').replace(/,+$/, '');
    if (joined) cmd.push('-o', joined);
    if (inputPath !== undefined) cmd.push(inputPath);
    cmd.push(path);
    if (inputPath === undefined && (sizeArg > 0n || backingPath === undefined)) cmd.push(`${sizeArg}K`);
  } else {
    const inputPrefix = inputFormatNum === FMT.QCOW2 ? 'encrypt.' : '';
    cmd.push(
      inputEnc
        ? `driver=${inputType},file.filename=${inputPath},${inputPrefix}key-secret=${inputSecretAlias}`
        : `driver=${inputType ?? 'raw'},file.filename=${inputPath}`,
    );
    const prefix = volFormat === FMT.QCOW2 ? 'encrypt.' : '';
    cmd.push(enc ? `driver=${type},file.filename=${path},${prefix}key-secret=${secretAlias}` : `driver=${type},file.filename=${path}`);
  }
  return cmd;
}

/**
 * The whole qemu-img work of creating a volume, as storageBackendCreateQemuImg
 * runs it: one command, or two (create, then convert into it) when a
 * conversion involves an encrypted volume.
 */
export function buildQemuImgCommands(o: Omit<QemuImgCommandOptions, 'convertStep'>): string[][] {
  const twoStep = !!o.inputVol && (!!o.vol.target.encryption || !!o.inputVol.target.encryption);
  if (!twoStep) return [buildQemuImgCommand({ ...o, convertStep: 'none' })];
  return [buildQemuImgCommand({ ...o, convertStep: 'create' }), buildQemuImgCommand({ ...o, convertStep: 'convert' })];
}
