import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { WIPE_ALGORITHMS } from '@virtkit/core';
import { openLocalTarget, openSegmentsTarget } from './block-target.js';
import { probeImage } from './image-probe.js';
import { openQemuTarget, qemuFilename, qemuRawImageOpts } from './qemu-block.js';
import { downloadFromTarget, uploadToTarget } from './transfer.js';
import { WIPE_PASSES, wipePassCount, wipeTarget } from './wipe.js';

const dir = mkdtempSync(join(tmpdir(), 'vk-dir-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const haveQemuImg = spawnSync('sh', ['-c', 'command -v qemu-img && command -v qemu-nbd']).status === 0;

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe.runIf(haveQemuImg)('image headers are read as qemu-img reads them', () => {
  for (const [fmt, opts] of [
    ['qcow2', ['-o', 'compat=1.1,lazy_refcounts=on,cluster_size=131072']],
    ['qcow2', ['-o', 'compat=0.10']],
    ['qed', []],
    ['vmdk', []],
    ['vdi', []],
    ['vpc', []],
    ['raw', []],
  ] as const) {
    it(`${fmt} ${opts.join(' ')}`, async () => {
      const path = join(dir, `img-${fmt}-${opts.length}`);
      spawnSync('qemu-img', ['create', '-q', '-f', fmt, ...opts, path, '10M'], { stdio: 'ignore' });
      const info = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', path], { encoding: 'utf8' }).stdout) as { 'virtual-size': number };
      const p = await probeImage(path);
      expect(p.format).toBe(fmt);
      expect(p.capacity).toBe(BigInt(info['virtual-size']));
      if (fmt === 'qcow2' && opts[1]?.includes('lazy')) {
        expect(p).toMatchObject({ compat: '1.1', clusterSize: 131072n, features: ['lazy_refcounts'] });
      }
    });
  }

  it('qcow2 with a backing file and its format', async () => {
    const base = join(dir, 'base.raw');
    const top = join(dir, 'top.qcow2');
    writeFileSync(base, Buffer.alloc(1 << 20));
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'raw', top], { stdio: 'ignore' });
    expect((await probeImage(top)).backingStore).toEqual({ path: base, format: 'raw' });
  });
});

describe('transfers', () => {
  it('uploads at an offset, sparse, and downloads ranges', async () => {
    const path = join(dir, 'vol.raw');
    writeFileSync(path, Buffer.alloc(0));
    const t = await openLocalTarget(path, 'rw');
    const data = Buffer.concat([Buffer.alloc(1 << 20, 7), Buffer.alloc(4 << 20), Buffer.alloc(100, 9)]);
    const progress: number[] = [];
    await uploadToTarget(t, Readable.from([data]), { sparse: true }, { onProgress: (p) => progress.push(p.processed) }, 'vol');
    await t.close();
    expect(statSync(path).size).toBe(data.length);
    expect(statSync(path).blocks * 512).toBeLessThan(2 << 20);
    expect(readFileSync(path).equals(data)).toBe(true);
    expect(progress.at(-1)).toBe(data.length);
    const r = await openLocalTarget(path, 'r');
    expect((await readAll(downloadFromTarget(r, { offset: (5 << 20) + 10, length: 50 }, {}, 'vol'))).equals(Buffer.alloc(50, 9))).toBe(true);
  });

  it('reads and writes volumes laid out in segments', async () => {
    const dev = join(dir, 'pv.img');
    writeFileSync(dev, Buffer.alloc(8 << 10));
    const t = await openSegmentsTarget(
      [
        { path: dev, deviceOffset: 4096, volumeOffset: 0, length: 1024 },
        { path: dev, deviceOffset: 1024, volumeOffset: 1024, length: 1024 },
      ],
      'rw',
      'lv',
    );
    expect(t.size).toBe(2048);
    await t.write(1000, Buffer.alloc(48, 5));
    await t.close();
    const raw = readFileSync(dev);
    expect(raw.subarray(4096 + 1000, 4096 + 1024).equals(Buffer.alloc(24, 5))).toBe(true);
    expect(raw.subarray(1024, 1024 + 24).equals(Buffer.alloc(24, 5))).toBe(true);
    await expect(openSegmentsTarget([{ path: dev, deviceOffset: 0, volumeOffset: 10, length: 1 }], 'r', 'lv')).rejects.toThrow(/gap/);
  });

  it.runIf(haveQemuImg)('reaches a volume through qemu-nbd', async () => {
    const path = join(dir, 'nbd.raw');
    writeFileSync(path, Buffer.alloc(2 << 20, 1));
    const src = { type: 'file' as const, path, slice: { offset: 1 << 20, size: 1 << 20 } };
    expect(qemuRawImageOpts(src)).toBe(`driver=raw,offset=1048576,size=1048576,file.driver=file,file.filename=${path}`);
    expect(qemuFilename(src)).toContain('"offset":1048576');
    const t = await openQemuTarget(src, 'rw', 'nbd test');
    expect(t.size).toBe(1 << 20);
    await t.write(0, Buffer.alloc(10, 3));
    await t.writeZeroes?.(100, 100);
    expect((await t.read(0, 12)).equals(Buffer.from([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1]))).toBe(true);
    await t.close();
    const raw = readFileSync(path);
    expect(raw[(1 << 20) + 5]).toBe(3);
    expect(raw[(1 << 20) + 150]).toBe(0);
    expect(raw[5]).toBe(1);
  });
});

describe('wipe algorithms (scrub patterns)', () => {
  it('has every libvirt algorithm with scrub pass counts', () => {
    expect(WIPE_ALGORITHMS.filter((a) => a !== 'zero' && a !== 'trim').every((a) => a in WIPE_PASSES)).toBe(true);
    expect(Object.fromEntries(WIPE_ALGORITHMS.map((a) => [a, wipePassCount(a)]))).toEqual({
      zero: 1, nnsa: 3, dod: 3, bsi: 9, gutmann: 35, schneier: 7, pfitzner7: 7, pfitzner33: 33, random: 1, trim: 1,
    });
  });

  it('overwrites with the last pass pattern, verifying where scrub verifies', async () => {
    const path = join(dir, 'wipe.raw');
    writeFileSync(path, Buffer.alloc(3 << 20, 0x42));
    const t = await openLocalTarget(path, 'rw');
    const seen: number[] = [];
    await wipeTarget(t, 'dod', t.size, { onProgress: (p) => seen.push(p.processed) }, 'wipe');
    await t.close();
    expect(readFileSync(path).equals(Buffer.alloc(3 << 20, 0xff))).toBe(true);
    expect(seen.at(-1)).toBe(3 * (3 << 20));
    const b = await openLocalTarget(path, 'rw');
    await wipeTarget(b, 'bsi', b.size, {}, 'wipe');
    await b.close();
    expect(readFileSync(path).equals(Buffer.alloc(3 << 20, 0x7f))).toBe(true);
    const c = await openLocalTarget(path, 'rw');
    const ac = new AbortController();
    ac.abort();
    await expect(wipeTarget(c, 'gutmann', c.size, { signal: ac.signal }, 'wipe')).rejects.toMatchObject({ code: 'OPERATION_ABORTED' });
    await c.close();
  });
});
