import { VirtError, type StoragePoolDef, type StorageVolDef } from '@virtkit/core';
import { escapeComma } from './qemu-img-command.js';
import { FMT, fileFormatName, formatNumber } from './formats.js';

export interface QemuImgResizeOptions {
  pool: StoragePoolDef;
  vol: StorageVolDef;
  /** New capacity in bytes. */
  capacity: bigint;
  /** File holding the LUKS passphrase (required when the volume is encrypted). */
  secretPath?: string;
  /** Allow a smaller capacity (qemu-img refuses to shrink without --shrink). */
  shrink?: boolean;
  tool?: string;
}

/**
 * `qemu-img resize` as libvirt's storageBackendResizeQemuImg builds it; an
 * encrypted volume is opened through --image-opts with its secret object.
 */
export function buildQemuImgResizeCommand(o: QemuImgResizeOptions): string[] {
  const { vol } = o;
  const path = vol.target.path;
  const what = `storage volume '${vol.name}'`;
  if (path === undefined) throw new VirtError('INVALID_ARG', `${what}: missing target path`, { origin: 'storage' });
  if (o.capacity < 0n) throw new VirtError('INVALID_ARG', `${what}: capacity must not be negative`, { origin: 'storage' });
  const cmd = [o.tool ?? 'qemu-img', 'resize'];
  if (o.shrink) cmd.push('--shrink');
  const enc = vol.target.encryption;
  if (enc) {
    const format = formatNumber(o.pool, vol.target.format);
    const type = format === FMT.RAW ? 'luks' : fileFormatName(format);
    if (format !== FMT.RAW && format !== FMT.QCOW2) {
      throw new VirtError('CONFIG_UNSUPPORTED', `${what}: volume encryption unsupported with format ${type}`, { origin: 'storage' });
    }
    if (enc.format !== 'luks' || enc.secrets.length !== 1) {
      throw new VirtError('CONFIG_UNSUPPORTED', `${what}: resizing needs LUKS encryption with exactly one secret`, { origin: 'storage' });
    }
    if (o.secretPath === undefined) throw new VirtError('INTERNAL_ERROR', `${what}: path to secret data file is required`, { origin: 'storage' });
    const alias = `${vol.name}_encrypt0`;
    const [driver, prefix] = format === FMT.QCOW2 ? ['qcow2', 'encrypt.'] : ['luks', ''];
    cmd.push('--object', `secret,id=${alias},file=${escapeComma(o.secretPath)}`);
    cmd.push('--image-opts', `driver=${driver},${prefix}key-secret=${alias},file.filename=${escapeComma(path)}`);
  } else cmd.push(path);
  cmd.push(`${o.capacity}`);
  return cmd;
}
