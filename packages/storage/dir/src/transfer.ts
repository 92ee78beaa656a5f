import { Readable } from 'node:stream';
import { VirtError, type JobContext, type VolumeTransferOptions } from '@virtkit/core';
import type { BlockTarget } from './block-target.js';

/** Transfers move data in blocks of this size; a block of zeros is a hole for sparse transfers. */
export const TRANSFER_BLOCK = 1 << 20;

export function isZero(buf: Buffer): boolean {
  // Compare 8 bytes at a time where aligned; fall back to bytes.
  const n = buf.length;
  let i = 0;
  if (buf.byteOffset % 8 === 0) {
    const words = new BigUint64Array(buf.buffer, buf.byteOffset, Math.floor(n / 8));
    for (const w of words) if (w !== 0n) return false;
    i = words.length * 8;
  }
  for (; i < n; i++) if (buf[i] !== 0) return false;
  return true;
}

export function aborted(what: string): VirtError {
  return new VirtError('OPERATION_ABORTED', `${what}: operation was cancelled`, { origin: 'storage' });
}

function report(job: JobContext, processed: number, total: number): void {
  try {
    job.onProgress?.({ processed, total });
  } catch {
    // Listeners must not break the transfer.
  }
}

const ZEROS = Buffer.alloc(TRANSFER_BLOCK);

/** Zeroes a range, with the target's fast path when it has one. */
export async function zeroRange(target: BlockTarget, position: number, length: number): Promise<void> {
  if (target.writeZeroes) return target.writeZeroes(position, length);
  for (let off = 0; off < length; off += TRANSFER_BLOCK) {
    const n = Math.min(TRANSFER_BLOCK, length - off);
    await target.write(position + off, n === TRANSFER_BLOCK ? ZEROS : ZEROS.subarray(0, n));
  }
}

/**
 * Writes a stream into a volume at `offset` (at most `length` bytes when
 * non-zero), as `vol-upload`. Sparse: blocks of zeros are not sent as
 * data: past the volume's old end they stay holes, inside it they are
 * zeroed; a whole-file upload into a regular file first empties it so
 * every hole is a real one. Cancelling stops between blocks.
 */
export async function uploadToTarget(target: BlockTarget, source: Readable, opts: VolumeTransferOptions, job: JobContext, what: string): Promise<number> {
  const offset = opts.offset ?? 0;
  const limit = opts.length && opts.length > 0 ? opts.length : Infinity;
  if (offset > target.size && !target.growable) {
    throw new VirtError('INVALID_ARG', `${what}: offset ${offset} is beyond the end of the volume (${target.size} bytes)`, { origin: 'storage' });
  }
  const total = Number.isFinite(limit) ? limit : Math.max(0, target.size - offset);
  const sparse = !!opts.sparse;
  if (sparse && target.growable && offset === 0 && !Number.isFinite(limit) && target.truncate) await target.truncate(0);
  const oldEnd = target.size;
  let pos = offset;
  let written = 0;
  let pending: Buffer[] = [];
  let pendingLen = 0;

  const flushBlock = async (block: Buffer) => {
    if (sparse && isZero(block)) {
      const end = pos + block.length;
      if (pos < oldEnd) await zeroRange(target, pos, Math.min(end, oldEnd) - pos);
    } else await target.write(pos, block);
    pos += block.length;
    written += block.length;
    report(job, written, Math.max(total, written));
  };

  try {
    for await (const chunk of source as AsyncIterable<Buffer | string>) {
      if (job.signal?.aborted) throw aborted(what);
      let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const room = limit - written - pendingLen;
      if (buf.length > room) buf = buf.subarray(0, room);
      pending.push(buf);
      pendingLen += buf.length;
      while (pendingLen >= TRANSFER_BLOCK) {
        const all = Buffer.concat(pending, pendingLen);
        await flushBlock(all.subarray(0, TRANSFER_BLOCK));
        const rest = all.subarray(TRANSFER_BLOCK);
        pending = rest.length ? [rest] : [];
        pendingLen = rest.length;
        if (job.signal?.aborted) throw aborted(what);
      }
      if (written + pendingLen >= limit) break;
    }
    if (pendingLen) await flushBlock(Buffer.concat(pending, pendingLen));
    // The stream's length is known only now: the job is complete.
    report(job, written, written);
    // A sparse upload whose tail was holes still has to reach its length.
    if (pos > target.size && target.truncate) await target.truncate(pos);
    await target.flush();
  } finally {
    if (!source.destroyed) source.destroy();
  }
  return written;
}

/** Reads a volume from `offset` (at most `length` bytes when non-zero) as a stream, as `vol-download`. */
export function downloadFromTarget(target: BlockTarget, opts: VolumeTransferOptions, job: JobContext, what: string): Readable {
  const offset = opts.offset ?? 0;
  if (offset > target.size) {
    void target.close();
    throw new VirtError('INVALID_ARG', `${what}: offset ${offset} is beyond the end of the volume (${target.size} bytes)`, { origin: 'storage' });
  }
  const end = opts.length && opts.length > 0 ? Math.min(target.size, offset + opts.length) : target.size;
  const total = end - offset;
  let pos = offset;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await target.close();
  };
  const stream = new Readable({
    highWaterMark: TRANSFER_BLOCK,
    async read() {
      try {
        if (job.signal?.aborted) throw aborted(what);
        if (pos >= end) {
          await close();
          this.push(null);
          return;
        }
        const buf = await target.read(pos, Math.min(TRANSFER_BLOCK, end - pos));
        if (buf.length === 0) {
          await close();
          this.push(null);
          return;
        }
        pos += buf.length;
        report(job, pos - offset, total);
        this.push(buf);
      } catch (err) {
        await close();
        this.destroy(err as Error);
      }
    },
    destroy(err, cb) {
      void close().then(() => cb(err));
    },
  });
  return stream;
}

/**
 * Copies `length` bytes between targets in blocks, skipping blocks of
 * zeros when the destination is fresh (they stay holes). Progress is
 * bytes copied; cancelling stops between blocks.
 */
export async function copyTarget(from: BlockTarget, to: BlockTarget, length: number, job: JobContext, what: string, opts: { skipZeros?: boolean } = {}): Promise<void> {
  for (let pos = 0; pos < length; ) {
    if (job.signal?.aborted) throw aborted(what);
    const buf = await from.read(pos, Math.min(TRANSFER_BLOCK * 4, length - pos));
    if (buf.length === 0) break;
    if (!(opts.skipZeros && isZero(buf))) await to.write(pos, buf);
    pos += buf.length;
    report(job, pos, length);
  }
  if (to.growable && to.size < length && to.truncate) await to.truncate(length);
  await to.flush();
}
