import { randomFillSync } from 'node:crypto';
import { VirtError, type JobContext, type WipeAlgorithm } from '@virtkit/core';
import type { BlockTarget } from './block-target.js';
import { TRANSFER_BLOCK, aborted, zeroRange } from './transfer.js';

/** One overwrite pass: random bytes, or a repeated byte pattern (then read back when `verify`). */
export type WipePass = { kind: 'random' } | { kind: 'pattern'; bytes: readonly number[]; verify?: boolean };

const R: WipePass = { kind: 'random' };
const P = (...bytes: number[]): WipePass => ({ kind: 'pattern', bytes });
const V = (...bytes: number[]): WipePass => ({ kind: 'pattern', bytes, verify: true });

/**
 * The pass sequences of libvirt's wipe algorithms, which libvirt hands to
 * scrub(1): the same patterns, written here without scrub.
 */
export const WIPE_PASSES: Readonly<Record<Exclude<WipeAlgorithm, 'zero' | 'trim'>, readonly WipePass[]>> = {
  nnsa: [R, R, V(0x00)],
  dod: [R, P(0x00), V(0xff)],
  bsi: [P(0xff), P(0xfe), P(0xfd), P(0xfb), P(0xf7), P(0xef), P(0xdf), P(0xbf), P(0x7f)],
  gutmann: [
    R, R, R, R,
    P(0x55), P(0xaa), P(0x92, 0x49, 0x24), P(0x49, 0x24, 0x92), P(0x24, 0x92, 0x49),
    P(0x00), P(0x11), P(0x22), P(0x33), P(0x44), P(0x55), P(0x66), P(0x77),
    P(0x88), P(0x99), P(0xaa), P(0xbb), P(0xcc), P(0xdd), P(0xee), P(0xff),
    P(0x92, 0x49, 0x24), P(0x49, 0x24, 0x92), P(0x24, 0x92, 0x49), P(0x6d, 0xb6, 0xdb), P(0xb6, 0xdb, 0x6d), P(0xdb, 0x6d, 0xb6),
    R, R, R, R,
  ],
  schneier: [P(0x00), P(0xff), R, R, R, R, R],
  pfitzner7: Array.from({ length: 7 }, () => R),
  pfitzner33: Array.from({ length: 33 }, () => R),
  random: [R],
};

/** How many passes an algorithm writes. */
export function wipePassCount(algorithm: WipeAlgorithm): number {
  if (algorithm === 'zero' || algorithm === 'trim') return 1;
  return WIPE_PASSES[algorithm].length;
}

function patternBlock(bytes: readonly number[], len: number, phase: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = bytes[(phase + i) % bytes.length]!;
  return b;
}

/**
 * Overwrites `length` bytes of a target with an algorithm's passes (not
 * `trim`, which backends do with the storage's discard). Progress counts
 * bytes over all passes; a cancel stops between blocks.
 */
export async function wipeTarget(target: BlockTarget, algorithm: WipeAlgorithm, length: number, job: JobContext, what: string): Promise<void> {
  if (algorithm === 'trim') throw new VirtError('ARGUMENT_UNSUPPORTED', `${what}: 'trim' needs the storage's discard support`, { origin: 'storage' });
  const passes: readonly WipePass[] = algorithm === 'zero' ? [P(0x00)] : WIPE_PASSES[algorithm];
  const total = length * passes.length;
  let done = 0;
  const progress = () => {
    try {
      job.onProgress?.({ processed: done, total });
    } catch {
      // ignore listener failures
    }
  };
  progress();
  for (const pass of passes) {
    if (pass.kind === 'pattern' && pass.bytes.length === 1 && pass.bytes[0] === 0 && !pass.verify && target.writeZeroes) {
      if (job.signal?.aborted) throw aborted(what);
      await zeroRange(target, 0, length);
      done += length;
      progress();
      continue;
    }
    const block = pass.kind === 'pattern' && TRANSFER_BLOCK % pass.bytes.length === 0 ? patternBlock(pass.bytes, TRANSFER_BLOCK, 0) : undefined;
    for (let pos = 0; pos < length; pos += TRANSFER_BLOCK) {
      if (job.signal?.aborted) throw aborted(what);
      const n = Math.min(TRANSFER_BLOCK, length - pos);
      let buf: Buffer;
      if (pass.kind === 'random') buf = randomFillSync(Buffer.allocUnsafe(n));
      else buf = block ? block.subarray(0, n) : patternBlock(pass.bytes, n, pos % pass.bytes.length);
      await target.write(pos, buf);
      done += n;
      progress();
    }
    await target.flush();
    if (pass.kind === 'pattern' && pass.verify) {
      for (let pos = 0; pos < length; pos += TRANSFER_BLOCK) {
        if (job.signal?.aborted) throw aborted(what);
        const n = Math.min(TRANSFER_BLOCK, length - pos);
        const got = await target.read(pos, n);
        if (!got.equals(patternBlock(pass.bytes, n, pos % pass.bytes.length))) {
          throw new VirtError('OPERATION_FAILED', `${what}: verification of the ${algorithm} wipe failed at byte ${pos}`, { origin: 'storage' });
        }
      }
    }
  }
}
