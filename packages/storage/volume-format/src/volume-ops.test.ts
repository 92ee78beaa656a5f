import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtError, parseStoragePoolXml, parseStorageVolXml, type StoragePoolDef } from '@virtkit/core';
import { createVolumeWithQemuImg, qemuImgInfo, resizeVolumeWithQemuImg } from './volume-ops.js';
import type { JobProgress } from './run-qemu-img.js';
import { runQemuImg } from './run-qemu-img.js';

// Real qemu-img runs in a per-run temp folder, removed afterwards.
let root: string;
let pool: StoragePoolDef;
let secretDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'virtkit-volfmt-'));
  secretDir = await mkdtemp(join(tmpdir(), 'virtkit-volfmt-secrets-'));
  pool = parseStoragePoolXml(`<pool type='dir'><name>t</name><target><path>${root}</path></target></pool>`);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(secretDir, { recursive: true, force: true });
});

const vol = (name: string, body: string) =>
  parseStorageVolXml(`<volume><name>${name}</name>${body.replace('PATH', `<path>${join(root, name)}</path>`)}</volume>`, pool);

describe('qemu-img at work', () => {
  it('creates a qcow2 volume with the features asked for, mode 0600 by default', async () => {
    const v = vol('a.qcow2', `<capacity unit='MiB'>16</capacity><target>PATH<format type='qcow2'/><features><lazy_refcounts/></features></target>`);
    await createVolumeWithQemuImg({ pool, vol: v });
    const info = await qemuImgInfo(v.target.path!, { format: 'qcow2' });
    expect(info.format).toBe('qcow2');
    expect(info.virtualSize).toBe(16n * 1024n * 1024n);
    expect(info.compat).toBe('1.1');
    expect(info.lazyRefcounts).toBe(true);
    expect((await stat(v.target.path!)).mode & 0o777).toBe(0o600);
    await expect(createVolumeWithQemuImg({ pool, vol: v })).rejects.toMatchObject({ code: 'STORAGE_VOL_EXIST' });
  });

  it('converts a raw file into qcow2 reporting progress, with a backing chain readable by info', async () => {
    const srcPath = join(root, 'src.raw');
    await writeFile(srcPath, Buffer.alloc(4 * 1024 * 1024, 7));
    const src = vol('src.raw', `<capacity>${4 * 1024 * 1024}</capacity><target>PATH<format type='raw'/></target>`);
    const dst = vol('dst.qcow2', `<capacity>0</capacity><target>PATH<format type='qcow2'/><permissions><mode>0640</mode></permissions></target>`);
    const seen: JobProgress[] = [];
    await createVolumeWithQemuImg({ pool, vol: dst, inputVol: src, onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toEqual({ processed: 10000, total: 10000 });
    expect((await stat(dst.target.path!)).mode & 0o777).toBe(0o640);
    const info = await qemuImgInfo(dst.target.path!);
    expect(info.virtualSize).toBe(4n * 1024n * 1024n);

    const overlay = vol('top.qcow2', `<capacity>0</capacity><target>PATH<format type='qcow2'/></target>
      <backingStore><path>${dst.target.path}</path><format type='qcow2'/></backingStore>`);
    await createVolumeWithQemuImg({ pool, vol: overlay });
    const chain = await qemuImgInfo(overlay.target.path!, { backingChain: true });
    expect(chain.backingFilename).toBe(dst.target.path);
    expect(chain.backing?.format).toBe('qcow2');
  });

  it('resizes a volume', async () => {
    const v = vol('grow.qcow2', `<capacity unit='MiB'>1</capacity><target>PATH<format type='qcow2'/></target>`);
    await createVolumeWithQemuImg({ pool, vol: v });
    await resizeVolumeWithQemuImg({ pool, vol: v, capacity: 8n * 1024n * 1024n });
    expect((await qemuImgInfo(v.target.path!)).virtualSize).toBe(8n * 1024n * 1024n);
    await resizeVolumeWithQemuImg({ pool, vol: v, capacity: 2n * 1024n * 1024n, shrink: true });
    expect((await qemuImgInfo(v.target.path!)).virtualSize).toBe(2n * 1024n * 1024n);
  });

  it('creates, converts into and resizes LUKS volumes with passphrases in short-lived files', async () => {
    const enc = `<encryption format='luks'><secret type='passphrase' usage='t'/></encryption>`;
    const v = vol('l.img', `<capacity unit='MiB'>4</capacity><target>PATH<format type='raw'/>${enc}</target>`);
    await createVolumeWithQemuImg({ pool, vol: v, secret: 'hunter2', secretDir });
    expect((await qemuImgInfo(v.target.path!)).format).toBe('luks');
    const plain = vol('plain.raw', `<capacity unit='MiB'>4</capacity><target>PATH<format type='raw'/></target>`);
    await writeFile(plain.target.path!, Buffer.alloc(4 * 1024 * 1024, 1));
    const copy = vol('copy.qcow2', `<capacity unit='MiB'>4</capacity><target>PATH<format type='qcow2'/>${enc}</target>`);
    await createVolumeWithQemuImg({ pool, vol: copy, inputVol: plain, secret: 'pw', secretDir });
    expect((await qemuImgInfo(copy.target.path!)).encrypted).toBe(true);
    await resizeVolumeWithQemuImg({ pool, vol: v, capacity: 8n * 1024n * 1024n, secret: 'hunter2', secretDir });
    expect(await readdir(secretDir)).toEqual([]);
    await expect(createVolumeWithQemuImg({ pool, vol: vol('nopw.img', `<capacity>1</capacity><target>PATH${enc}</target>`) })).rejects.toMatchObject({
      code: 'INVALID_ARG',
    });
  }, 60_000); // each LUKS open or create runs qemu's 2-second key-derivation benchmark

  it('removes a half-made volume when qemu-img fails', async () => {
    const bad = vol('bad.qcow2', `<capacity>1024</capacity><target>PATH<format type='qcow2'/><clusterSize>3</clusterSize></target>`);
    await expect(createVolumeWithQemuImg({ pool, vol: bad })).rejects.toMatchObject({ code: 'OPERATION_FAILED' });
    expect(existsSync(bad.target.path!)).toBe(false);
  });

  it('cancels a create: kills qemu-img and leaves nothing behind', async () => {
    // A source that reads slowly: qemu's null-co driver with a latency per request.
    const slow = parseStorageVolXml(
      `<volume><name>slow</name><capacity>1073741824</capacity><target><path>json:{"file":{"driver":"null-co","size":1073741824,"latency-ns":20000000}}</path><format type='raw'/></target></volume>`,
      pool,
    );
    const dst = vol('cancelled.qcow2', `<capacity>0</capacity><target>PATH<format type='qcow2'/></target>`);
    const ac = new AbortController();
    let madeBeforeAbort = false;
    const job = createVolumeWithQemuImg({
      pool,
      vol: dst,
      inputVol: slow,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.processed > 0 && !ac.signal.aborted) {
          madeBeforeAbort = existsSync(dst.target.path!);
          ac.abort();
        }
      },
    });
    await expect(job).rejects.toMatchObject({ code: 'OPERATION_ABORTED' });
    expect(madeBeforeAbort).toBe(true);
    expect(existsSync(dst.target.path!)).toBe(false);

    const early = new AbortController();
    early.abort();
    const never = vol('never.qcow2', `<capacity>1024</capacity><target>PATH<format type='qcow2'/></target>`);
    await expect(createVolumeWithQemuImg({ pool, vol: never, signal: early.signal })).rejects.toBeInstanceOf(VirtError);
    expect(existsSync(never.target.path!)).toBe(false);
  });

  it('reports a missing binary as a system error', async () => {
    await expect(runQemuImg(['/nonexistent/qemu-img', 'info', 'x'])).rejects.toMatchObject({ code: 'SYSTEM_ERROR' });
  });
});
