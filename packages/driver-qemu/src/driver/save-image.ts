import { readSync } from 'node:fs';
import { VirtError } from '@virtkit/core';

/**
 * libvirt's QEMU save image (qemu_saveimage.h): a 92-byte header, the
 * domain XML (NUL-terminated, padded with 64 KiB of zeros so it can be
 * edited in place), then QEMU's migration stream. The magic says
 * "LibvirtQemudPart" until the stream is complete, then "LibvirtQemudSave".
 * Native byte order, like libvirt (x86_64: little endian).
 */
export const SAVE_MAGIC = 'LibvirtQemudSave';
export const SAVE_PARTIAL = 'LibvirtQemudPart';
export const SAVE_VERSION = 2;
export const SAVE_HEADER_SIZE = 16 + 4 * 5 + 4 * 14;
const XML_PAD = 64 * 1024;

export interface SaveImageHeader {
  magic: string;
  version: number;
  /** Bytes of XML (with its NUL) plus padding. */
  dataLen: number;
  wasRunning: boolean;
  /** 0: raw; libvirt's compressed formats are refused. */
  format: number;
  cookieOffset: number;
}

/** The header and padded XML written before the migration stream; the stream starts at `buf.length`. */
export function encodeSaveImageStart(xml: string, wasRunning: boolean): Buffer {
  const xmlBytes = Buffer.from(xml + '\0', 'utf8');
  const dataLen = xmlBytes.length + XML_PAD;
  const buf = Buffer.alloc(SAVE_HEADER_SIZE + dataLen);
  buf.write(SAVE_PARTIAL, 0, 'latin1');
  buf.writeUInt32LE(SAVE_VERSION, 16);
  buf.writeUInt32LE(dataLen, 20);
  buf.writeUInt32LE(wasRunning ? 1 : 0, 24);
  buf.writeUInt32LE(0, 28);
  buf.writeUInt32LE(0, 32);
  xmlBytes.copy(buf, SAVE_HEADER_SIZE);
  return buf;
}

export function decodeSaveImageHeader(buf: Buffer, file: string): SaveImageHeader {
  if (buf.length < SAVE_HEADER_SIZE) throw new VirtError('OPERATION_FAILED', `'${file}' is not a saved domain image: too short`, { origin: 'qemu' });
  const magic = buf.toString('latin1', 0, 16);
  if (magic === SAVE_PARTIAL) throw new VirtError('OPERATION_FAILED', `save image '${file}' is incomplete (the save did not finish)`, { origin: 'qemu' });
  if (magic !== SAVE_MAGIC) throw new VirtError('OPERATION_FAILED', `'${file}' is not a saved domain image (bad magic)`, { origin: 'qemu' });
  const h: SaveImageHeader = {
    magic,
    version: buf.readUInt32LE(16),
    dataLen: buf.readUInt32LE(20),
    wasRunning: buf.readUInt32LE(24) !== 0,
    format: buf.readUInt32LE(28),
    cookieOffset: buf.readUInt32LE(32),
  };
  if (h.version !== SAVE_VERSION && h.version !== 1) throw new VirtError('OPERATION_FAILED', `save image '${file}' has unsupported version ${h.version}`, { origin: 'qemu' });
  if (h.format !== 0) throw new VirtError('CONFIG_UNSUPPORTED', `save image '${file}' is compressed (format ${h.format}), which virtkit does not read`, { origin: 'qemu' });
  if (h.dataLen <= 0 || h.dataLen > 64 * 1024 * 1024) throw new VirtError('OPERATION_FAILED', `save image '${file}' has an invalid XML length`, { origin: 'qemu' });
  return h;
}

/** Reads exactly `n` bytes at the descriptor's current offset (advancing it). */
function readExact(fd: number, n: number, file: string): Buffer {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, buf, got, n - got, null);
    if (r === 0) throw new VirtError('OPERATION_FAILED', `save image '${file}' is truncated`, { origin: 'qemu' });
    got += r;
  }
  return buf;
}

/**
 * Reads the header and XML from an open image, leaving the descriptor's
 * offset at the start of the migration stream (QEMU reads from there).
 */
export function readSaveImageStart(fd: number, file: string): { header: SaveImageHeader; xml: string; streamOffset: number } {
  const header = decodeSaveImageHeader(readExact(fd, SAVE_HEADER_SIZE, file), file);
  const data = readExact(fd, header.dataLen, file);
  const end = data.indexOf(0);
  const xmlEnd = header.cookieOffset > 0 ? Math.min(end, header.cookieOffset) : end;
  const xml = data.toString('utf8', 0, xmlEnd < 0 ? data.length : xmlEnd);
  return { header, xml, streamOffset: SAVE_HEADER_SIZE + header.dataLen };
}
