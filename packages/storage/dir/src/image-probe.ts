import { open, readFile, stat } from 'node:fs/promises';
import type { StorageFileFeature } from '@virtkit/core';

/**
 * What an image file's header says, read directly (as libvirt's
 * storage_file_probe.c does) so that listing a pool of hundreds of images
 * spawns no process: format, guest-visible size, backing file and the
 * qcow2 details libvirt prints in volume XML.
 */
export interface ImageProbe {
  format: 'raw' | 'qcow' | 'qcow2' | 'qed' | 'vmdk' | 'vdi' | 'vpc' | 'iso' | 'dir';
  /** Guest-visible size in bytes (for raw: the file size). */
  capacity: bigint;
  backingStore?: { path: string; format?: string };
  encrypted?: 'aes' | 'luks';
  compat?: string;
  clusterSize?: bigint;
  features?: StorageFileFeature[];
}

const HEADER_BYTES = 64 * 1024;

function ascii(buf: Buffer, start: number, len: number): string {
  return buf.subarray(start, start + len).toString('latin1');
}

function backingName(buf: Buffer, offset: bigint, size: number): string | undefined {
  if (offset === 0n || size === 0 || offset + BigInt(size) > BigInt(buf.length)) return undefined;
  return buf.subarray(Number(offset), Number(offset) + size).toString('utf8');
}

function probeQcow2(buf: Buffer, fileSize: bigint): ImageProbe {
  const version = buf.readUInt32BE(4);
  if (version === 1) {
    const backing = backingName(buf, buf.readBigUInt64BE(8), buf.readUInt32BE(16));
    return { format: 'qcow', capacity: buf.readBigUInt64BE(24), ...(backing ? { backingStore: { path: backing } } : {}) };
  }
  const p: ImageProbe = { format: 'qcow2', capacity: buf.readBigUInt64BE(24) };
  const clusterBits = buf.readUInt32BE(20);
  if (clusterBits >= 9 && clusterBits <= 21) p.clusterSize = 1n << BigInt(clusterBits);
  const crypt = buf.readUInt32BE(32);
  if (crypt === 1) p.encrypted = 'aes';
  else if (crypt === 2) p.encrypted = 'luks';
  let extStart = 72;
  if (version >= 3 && buf.length >= 104) {
    p.compat = '1.1';
    const incompatible = buf.readBigUInt64BE(72);
    const compatible = buf.readBigUInt64BE(80);
    const features: StorageFileFeature[] = [];
    if (compatible & 1n) features.push('lazy_refcounts');
    if (incompatible & 16n) features.push('extended_l2');
    p.features = features;
    extStart = buf.readUInt32BE(100);
  } else p.compat = '0.10';
  const backing = backingName(buf, buf.readBigUInt64BE(8), buf.readUInt32BE(16));
  if (backing) {
    p.backingStore = { path: backing };
    // Header extensions: the backing file's format is one of them.
    const end = Math.min(buf.length, Number(buf.readBigUInt64BE(8)) || buf.length);
    for (let off = extStart; off + 8 <= end; ) {
      const type = buf.readUInt32BE(off);
      const len = buf.readUInt32BE(off + 4);
      if (type === 0) break;
      if (type === 0xe2792aca && off + 8 + len <= buf.length) p.backingStore.format = ascii(buf, off + 8, len);
      off += 8 + Math.ceil(len / 8) * 8;
    }
  }
  void fileSize;
  return p;
}

function probeQed(buf: Buffer): ImageProbe {
  const p: ImageProbe = { format: 'qed', capacity: buf.readBigUInt64LE(48) };
  const features = buf.readBigUInt64LE(16);
  if (features & 1n) {
    const backing = backingName(buf, BigInt(buf.readUInt32LE(56)), buf.readUInt32LE(60));
    if (backing) p.backingStore = { path: backing, ...(features & 4n ? { format: 'raw' } : {}) };
  }
  return p;
}

function probeVmdk(buf: Buffer): ImageProbe {
  const p: ImageProbe = { format: 'vmdk', capacity: buf.readBigUInt64LE(12) * 512n };
  const descOff = Number(buf.readBigUInt64LE(28)) * 512;
  const descLen = Number(buf.readBigUInt64LE(36)) * 512;
  if (descOff > 0 && descOff < buf.length) {
    const text = buf.subarray(descOff, Math.min(buf.length, descOff + descLen)).toString('latin1');
    const m = /parentFileNameHint="([^"]+)"/.exec(text);
    if (m) p.backingStore = { path: m[1]! };
  }
  return p;
}

function probeVmdkDescriptor(text: string): ImageProbe {
  let sectors = 0n;
  for (const m of text.matchAll(/^\s*(?:RW|RDONLY|NOACCESS)\s+([0-9]+)\s/gm)) sectors += BigInt(m[1]!);
  const p: ImageProbe = { format: 'vmdk', capacity: sectors * 512n };
  const m = /parentFileNameHint="([^"]+)"/.exec(text);
  if (m) p.backingStore = { path: m[1]! };
  return p;
}

/** Identifies an image from its first bytes (at least 64 KiB when the file has them). */
export function probeImageHeader(buf: Buffer, fileSize: bigint): ImageProbe {
  if (buf.length >= 32 && buf.readUInt32BE(0) === 0x514649fb) return probeQcow2(buf, fileSize);
  if (buf.length >= 64 && ascii(buf, 0, 4) === 'QED\0') return probeQed(buf);
  if (buf.length >= 44 && buf.readUInt32LE(0) === 0x564d444b) return probeVmdk(buf);
  if (buf.length >= 21 && ascii(buf, 0, 21) === '# Disk DescriptorFile') return probeVmdkDescriptor(buf.toString('latin1'));
  if (buf.length >= 376 && buf.readUInt32LE(64) === 0xbeda107f) return { format: 'vdi', capacity: buf.readBigUInt64LE(368) };
  if (buf.length >= 56 && ascii(buf, 0, 8) === 'conectix') return { format: 'vpc', capacity: buf.readBigUInt64BE(48) };
  if (buf.length >= 0x8006 && ascii(buf, 0x8001, 5) === 'CD001') return { format: 'iso', capacity: fileSize };
  return { format: 'raw', capacity: fileSize };
}

/** Size of a block device, from sysfs (stat reports 0 for devices). */
export async function blockDeviceSize(path: string): Promise<bigint | undefined> {
  try {
    const st = await stat(path);
    if (!st.isBlockDevice()) return undefined;
    const rdev = st.rdev;
    const major = Math.floor(rdev / 256) & 0xfff;
    const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff);
    const sectors = (await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8')).trim();
    return BigInt(sectors) * 512n;
  } catch {
    return undefined;
  }
}

/** Reads a file's (or device's) header and identifies it. `size` is the file size when known. */
export async function probeImage(path: string, size?: bigint): Promise<ImageProbe> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const fileSize = size ?? (st.isBlockDevice() ? ((await blockDeviceSize(path)) ?? 0n) : BigInt(st.size));
    const buf = Buffer.alloc(Number(fileSize < BigInt(HEADER_BYTES) ? fileSize : BigInt(HEADER_BYTES)));
    const { bytesRead } = buf.length ? await fh.read(buf, 0, buf.length, 0) : { bytesRead: 0 };
    return probeImageHeader(buf.subarray(0, bytesRead), fileSize);
  } finally {
    await fh.close();
  }
}
