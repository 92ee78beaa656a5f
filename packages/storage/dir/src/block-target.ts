import { open, type FileHandle } from 'node:fs/promises';
import { VirtError } from '@virtkit/core';
import { blockDeviceSize } from './image-probe.js';

/**
 * Positioned byte access to a volume's data, whatever holds it: a file, a
 * block device, a byte range of a device (a logical volume's extents when
 * there is no device node), or a network volume reached through qemu-nbd.
 * Upload, download, wipe and raw copies are written once against this.
 */
export interface BlockTarget {
  /** Bytes addressable now. */
  size: number;
  /** Whether writing past `size` grows it (regular files). */
  readonly growable: boolean;
  /** Reads up to `length` bytes at `position` (fewer at the end). */
  read(position: number, length: number): Promise<Buffer>;
  write(position: number, data: Buffer): Promise<void>;
  /** Zeroes a range without sending zero bytes, when the storage can. */
  writeZeroes?(position: number, length: number): Promise<void>;
  /** Sets the size of a growable target. */
  truncate?(size: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export type OpenMode = 'r' | 'rw';

async function readFull(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

async function writeFull(fh: FileHandle, position: number, data: Buffer): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** A file or block device, or a window (`offset`, `length`) of one. */
export async function openLocalTarget(path: string, mode: OpenMode, window?: { offset: number; length: number }): Promise<BlockTarget> {
  let fh: FileHandle;
  try {
    fh = await open(path, mode === 'r' ? 'r' : 'r+');
  } catch (err) {
    throw new VirtError('OPEN_FAILED', `cannot open volume '${path}': ${(err as Error).message}`, { origin: 'storage', cause: err });
  }
  const st = await fh.stat();
  const isFile = st.isFile();
  const base = window?.offset ?? 0;
  let size = window ? window.length : isFile ? st.size : Number((await blockDeviceSize(path)) ?? 0n);
  const growable = isFile && !window;
  const ioError = (op: string, err: unknown) =>
    new VirtError(op === 'read' ? 'READ_FAILED' : 'WRITE_FAILED', `cannot ${op} volume '${path}': ${(err as Error).message}`, { origin: 'storage', cause: err });
  return {
    get size() {
      return size;
    },
    set size(n: number) {
      size = n;
    },
    growable,
    async read(position, length) {
      const len = Math.max(0, Math.min(length, size - position));
      try {
        return await readFull(fh, base + position, len);
      } catch (err) {
        throw ioError('read', err);
      }
    },
    async write(position, data) {
      if (!growable && position + data.length > size) {
        throw new VirtError('WRITE_FAILED', `cannot write beyond the end of volume '${path}' (${size} bytes)`, { origin: 'storage' });
      }
      try {
        await writeFull(fh, base + position, data);
      } catch (err) {
        throw ioError('write', err);
      }
      if (position + data.length > size) size = position + data.length;
    },
    async truncate(n) {
      if (!growable) throw new VirtError('OPERATION_INVALID', `cannot change the size of '${path}'`, { origin: 'storage' });
      await fh.truncate(n);
      size = n;
    },
    async flush() {
      if (mode === 'rw') await fh.sync().catch(() => {});
    },
    async close() {
      await fh.close().catch(() => {});
    },
  };
}

/** One piece of a volume laid out on devices (a logical volume's segment). */
export interface TargetSegment {
  /** Device or file holding this piece. */
  path: string;
  /** Byte offset of the piece on `path`. */
  deviceOffset: number;
  /** Byte offset of the piece in the volume. */
  volumeOffset: number;
  length: number;
}

/**
 * A volume made of byte ranges on devices: how a logical volume is read
 * and written where device-mapper cannot give it a device node (its
 * extents are found on the physical volumes with `lvs`/`pvs`).
 */
export async function openSegmentsTarget(segments: readonly TargetSegment[], mode: OpenMode, what: string): Promise<BlockTarget> {
  const sorted = [...segments].sort((a, b) => a.volumeOffset - b.volumeOffset);
  let expect = 0;
  for (const s of sorted) {
    if (s.volumeOffset !== expect) throw new VirtError('INTERNAL_ERROR', `${what}: its segments leave a gap at byte ${expect}`, { origin: 'storage' });
    expect += s.length;
  }
  const handles = new Map<string, FileHandle>();
  try {
    for (const s of sorted) if (!handles.has(s.path)) handles.set(s.path, await open(s.path, mode === 'r' ? 'r' : 'r+'));
  } catch (err) {
    for (const h of handles.values()) await h.close().catch(() => {});
    throw new VirtError('OPEN_FAILED', `${what}: cannot open its device: ${(err as Error).message}`, { origin: 'storage', cause: err });
  }
  const size = expect;
  async function each(position: number, length: number, fn: (fh: FileHandle, devPos: number, bufOff: number, len: number) => Promise<void>): Promise<void> {
    let pos = position;
    const end = Math.min(size, position + length);
    for (const s of sorted) {
      if (pos >= end) break;
      const segEnd = s.volumeOffset + s.length;
      if (pos >= segEnd || end <= s.volumeOffset) continue;
      const len = Math.min(end, segEnd) - pos;
      await fn(handles.get(s.path)!, s.deviceOffset + (pos - s.volumeOffset), pos - position, len);
      pos += len;
    }
  }
  return {
    size,
    growable: false,
    async read(position, length) {
      const out = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
      await each(position, out.length, async (fh, devPos, bufOff, len) => {
        out.set(await readFull(fh, devPos, len), bufOff);
      });
      return out;
    },
    async write(position, data) {
      if (position + data.length > size) throw new VirtError('WRITE_FAILED', `${what}: cannot write beyond its end (${size} bytes)`, { origin: 'storage' });
      await each(position, data.length, (fh, devPos, bufOff, len) => writeFull(fh, devPos, data.subarray(bufOff, bufOff + len)));
    },
    async flush() {
      if (mode === 'rw') for (const h of handles.values()) await h.sync().catch(() => {});
    },
    async close() {
      for (const h of handles.values()) await h.close().catch(() => {});
    },
  };
}
