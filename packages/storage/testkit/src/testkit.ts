import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Connection,
  PluginLoader,
  VirtError,
  resolveVolumeDiskSource,
  type ErrorCode,
  type JobProgress,
  type PoolBuildOptions,
  type StoragePoolHandle,
  type StorageVolHandle,
  type VirtEvent,
  type VolumeDiskSource,
  type WipeAlgorithm,
} from '@virtkit/core';
import { CleanupStack } from './cleanup.js';
import { runPrefix } from './fixtures/host.js';
import { releaseUnder } from './fixtures/loop.js';
import { queryBlockInPausedGuest } from './qemu-guest.js';

/** What a backend under test stands on, made by its `setup`. */
export interface StorageTestTarget {
  /** A pool definition with this name on the component under test. */
  poolXml(name: string): string;
  /** Another definition using the same storage (the source-conflict check), when the type has such a rule. */
  conflictingPoolXml?(name: string): string;
  /** Run pool-build before the first start. */
  build: boolean;
  /** pool-build's flags for that first build (`--no-overwrite` to format an empty device). */
  buildOptions?: PoolBuildOptions;
  /** Whether pool-delete removes the storage (checked after the pool is stopped). */
  deletePool?: boolean;
  /** Volume formats to create; empty when the pool has fixed volumes (iSCSI LUNs). */
  formats: string[];
  /** Names of volumes that exist on start (LUNs). */
  existingVolumes?: string[];
  /** Volume capacity to use (bytes); default 16 MiB. */
  volumeBytes?: number;
  resize?: boolean;
  shrink?: boolean;
  upload?: boolean;
  download?: boolean;
  /** Wipe algorithms to run (besides checking that an unknown one is refused). */
  wipe?: WipeAlgorithm[];
  /** Clones into this pool (vol-create-from / vol-clone). */
  clone?: boolean;
  /** A local process holding a volume open blocks its deletion (file and block volumes). */
  openFileCheck?: boolean;
  /** Adds a volume behind the driver's back, so pool-refresh must find it. */
  addExternalVolume?(name: string): Promise<void>;
  /** find-storage-pool-sources: the spec to send and a string the answer must hold. */
  findSources?: { spec?: string; expect: string };
  /** QEMU opens this pool's volumes here (true), or why not. */
  qemu: true | string;
  /** Things the test may have left on the host (mounts, loop devices, VGs); empty when clean. */
  leftovers?(): Promise<string[]> | string[];
}

export interface StorageTestkitOptions {
  /** The suite's name (`dir`, `logical on loop devices`, …). */
  name: string;
  /** The pool type under test. */
  poolType: string;
  /** Folders holding plugin packages: the backend under test and @virtkit/driver-storage (VIRTKIT_PLUGIN_PATH style). */
  pluginPath: string;
  /** Why the suite cannot run on this host, or undefined when it can. */
  skip?(): string | undefined;
  /** Starts the real component. Register every undo step on `cleanup` as soon as the thing exists. */
  setup(ctx: { prefix: string; workDir: string; cleanup: CleanupStack }): Promise<StorageTestTarget>;
  /** Per-test timeout (ms). */
  timeoutMs?: number;
}

async function expectCode(p: Promise<unknown>, code: ErrorCode | ErrorCode[]): Promise<VirtError> {
  const codes = Array.isArray(code) ? code : [code];
  try {
    await p;
  } catch (err) {
    expect(err, `expected a VirtError ${codes.join('|')}, got ${String(err)}`).toBeInstanceOf(VirtError);
    expect(codes, `error was ${(err as VirtError).code}: ${(err as Error).message}`).toContain((err as VirtError).code);
    return err as VirtError;
  }
  throw new Error(`expected the call to fail with ${codes.join('|')}, but it succeeded`);
}

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(parts);
}

/** Deterministic non-zero test data. */
function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = ((i * 31 + seed * 7) % 251) + 1;
  return b;
}

const MiB = 1 << 20;

/**
 * Registers the shared storage backend suite with vitest: pool lifecycle
 * and events, typed errors on bad requests with nothing lost, volume
 * create / clone / resize / upload / download / wipe with progress and
 * cancellation, volumes in use, and a paused QEMU guest opening a volume.
 * Each backend package runs it against its real component:
 *
 *   runStorageBackendTestkit({ name: 'dir', poolType: 'dir', pluginPath, setup: async ({ workDir }) => ({ … }) });
 *
 * What the host cannot run is skipped with the reason printed.
 */
export function runStorageBackendTestkit(opts: StorageTestkitOptions): void {
  const reason = opts.skip?.();
  const timeout = opts.timeoutMs ?? 60_000;
  if (reason) {
    describe(`storage testkit: ${opts.name}`, () => {
      it.skip(`skipped: ${reason}`, () => {});
    });
    console.warn(`[storage testkit] ${opts.name}: skipped (${reason})`);
    return;
  }

  const prefix = runPrefix();
  const cleanup = new CleanupStack();
  const workDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const root = join(workDir, 'root');
  const events: VirtEvent[] = [];
  let target: StorageTestTarget;
  let conn: Connection;
  let pool: StoragePoolHandle;
  const poolName = `${prefix}-pool`;
  const volBytes = () => target.volumeBytes ?? 16 * MiB;
  const open = () =>
    Connection.open(`storage:///embed?root=${root}`, { loader: new PluginLoader({ pluginPath: opts.pluginPath, roots: [] }) });
  const firstFormat = () => target.formats[0] ?? 'raw';
  const volXml = (name: string, o: { format?: string; capacity?: number; allocation?: number } = {}) =>
    `<volume><name>${name}</name><capacity unit='bytes'>${o.capacity ?? volBytes()}</capacity>` +
    (o.allocation !== undefined ? `<allocation unit='bytes'>${o.allocation}</allocation>` : '') +
    (o.format ? `<target><format type='${o.format}'/></target>` : '') +
    `</volume>`;
  const creatable = () => target.formats.length > 0;
  /** A volume to write data into: a new raw one, or the first LUN. */
  let dataVol: StorageVolHandle | undefined;

  describe(`storage testkit: ${opts.name}`, () => {
    beforeAll(async () => {
      cleanup.add(`remove ${workDir}`, () => {
        releaseUnder(workDir);
        rmSync(workDir, { recursive: true, force: true });
      });
      target = await opts.setup({ prefix, workDir, cleanup });
      conn = await open();
      conn.on('*', (e) => events.push(e));
    }, timeout * 2);

    afterAll(async () => {
      // Stop what the suite started even when a test failed half way.
      if (conn) {
        for (const p of await conn.listAllStoragePools().catch(() => [] as StoragePoolHandle[])) {
          if (await p.isActive().catch(() => false)) {
            for (const v of await p.listAllVolumes().catch(() => [] as StorageVolHandle[])) {
              if (!target.existingVolumes?.includes(v.name)) await v.delete().catch(() => {});
            }
            await p.destroy().catch(() => {});
          }
          if (target?.deletePool) await p.delete().catch(() => {});
          await p.undefine().catch(() => {});
        }
        await conn.close();
      }
      const failures = await cleanup.run();
      const left = target?.leftovers ? await target.leftovers() : [];
      if (failures.length) console.warn(`[storage testkit] ${opts.name}: cleanup problems: ${failures.join('; ')}`);
      expect(left, 'left behind on the host').toEqual([]);
    }, timeout * 2);

    it('defines, builds and starts a pool; capacity comes from the real storage', async () => {
      pool = await conn.defineStoragePoolXml(target.poolXml(poolName));
      expect(pool.name).toBe(poolName);
      expect((await pool.refreshSummary()).state).toBe('inactive');
      if (target.build) await pool.build(target.buildOptions ?? {});
      await pool.start();
      const info = await pool.getInfo();
      expect(info.state).toBe('running');
      expect(info.capacity).toBeGreaterThan(0);
      expect(info.allocation + info.available).toBeLessThanOrEqual(info.capacity * 1.01 + 4096);
      expect(await pool.getXmlDesc()).toContain(`<capacity unit='bytes'>${info.capacity}</capacity>`);
      const kinds = events.filter((e) => e.kind === 'pool' && e.pool.name === poolName).map((e) => (e as { type: string }).type);
      expect(kinds).toEqual(target.build ? ['defined', 'created', 'started'] : ['defined', 'started']);
    }, timeout);

    it('another connection sees the same pool and state', async () => {
      const other = await open();
      try {
        const p = await other.lookupStoragePool(poolName);
        expect(p.uuid).toBe(pool.uuid);
        expect(await p.isActive()).toBe(true);
        expect((await other.listAllStoragePools({ active: true })).map((x) => x.name)).toContain(poolName);
      } finally {
        await other.close();
      }
    }, timeout);

    it('refuses bad requests with typed errors and changes nothing', async () => {
      await expectCode(conn.lookupStoragePool(`${prefix}-nosuchpool`), 'NO_STORAGE_POOL');
      await expectCode(conn.lookupStoragePool('../etc'), 'NO_STORAGE_POOL');
      await expectCode(pool.lookupVolume('nosuchvol'), 'NO_STORAGE_VOL');
      await expectCode(conn.defineStoragePoolXml(target.poolXml('a/b')), 'XML_ERROR');
      await expectCode(conn.defineStoragePoolXml(target.poolXml('..')), 'XML_ERROR');
      // Same name, another UUID; same UUID, another name.
      const again = target.poolXml(poolName).replace('</name>', '</name><uuid>0badc0de-0000-4000-8000-000000000001</uuid>');
      await expectCode(conn.defineStoragePoolXml(again), 'OPERATION_FAILED');
      const renamed = target.poolXml(`${prefix}-renamed`).replace('</name>', `</name><uuid>${pool.uuid}</uuid>`);
      await expectCode(conn.defineStoragePoolXml(renamed), 'OPERATION_FAILED');
      if (target.conflictingPoolXml) await expectCode(conn.defineStoragePoolXml(target.conflictingPoolXml(`${prefix}-conflict`)), 'OPERATION_FAILED');
      await expectCode(pool.start(), 'OPERATION_INVALID');
      await expectCode(pool.undefine(), 'OPERATION_INVALID');
      await expectCode(pool.delete(), 'OPERATION_INVALID');
      if (creatable()) {
        await expectCode(pool.createVolumeXml(volXml('a/b')), 'OPERATION_INVALID');
        await expectCode(pool.createVolumeXml(volXml('..')), 'OPERATION_INVALID');
        // Pools whose volumes have formats refuse an unknown one (logical pools have none and ignore it).
        if (target.formats.some((f) => f !== 'raw')) {
          await expectCode(pool.createVolumeXml(`<volume><name>x</name><capacity>1</capacity><target><format type='nosuchformat'/></target></volume>`), [
            'CONFIG_UNSUPPORTED',
            'XML_ERROR',
          ]);
        }
      } else {
        await expectCode(pool.createVolumeXml(volXml('newlun')), 'NO_SUPPORT');
      }
      const names = (await conn.listAllStoragePools()).map((p) => p.name).filter((n) => n.startsWith(prefix));
      expect(names).toEqual([poolName]);
      expect(await pool.isActive()).toBe(true);
    }, timeout);

    it('creates volumes of each format, lists them, and refuses duplicates', async () => {
      if (!creatable()) {
        const names = (await pool.listAllVolumes()).map((v) => v.name);
        for (const n of target.existingVolumes ?? []) expect(names).toContain(n);
        dataVol = await pool.lookupVolume(target.existingVolumes![0]!);
        return;
      }
      for (const format of target.formats) {
        const name = `v-${format}`;
        const v = await pool.createVolumeXml(volXml(name, { format }));
        const info = await v.getInfo();
        expect(info.capacity).toBe(volBytes());
        const xml = await v.getXmlDesc();
        if (format !== 'raw' || xml.includes('<format')) expect(xml).toContain(`<format type='${format}'/>`);
        expect((await conn.lookupStorageVolume(v.key)).name).toBe(name);
        if (v.path.startsWith('/')) expect((await conn.lookupStorageVolume(v.path)).name).toBe(name);
      }
      const names = (await pool.listAllVolumes()).map((v) => v.name);
      for (const f of target.formats) expect(names).toContain(`v-${f}`);
      await expectCode(pool.createVolumeXml(volXml(`v-${firstFormat()}`, { format: firstFormat() })), 'STORAGE_VOL_EXIST');
      dataVol = await pool.createVolumeXml(volXml('data', { format: 'raw' }));
    }, timeout);

    it('creates a volume with allocation, reporting progress', async () => {
      if (!creatable()) return;
      const seen: JobProgress[] = [];
      const v = await pool.createVolumeXml(volXml('allocated', { format: 'raw', allocation: 4 * MiB }), {}, { onProgress: (p) => seen.push(p) });
      expect(seen.length).toBeGreaterThan(0);
      const last = seen[seen.length - 1]!;
      expect(last.processed).toBe(last.total);
      expect((await v.getInfo()).allocation).toBeGreaterThanOrEqual(4 * MiB - 65536);
      await v.delete();
    }, timeout);

    it('uploads and downloads with offsets and lengths', async () => {
      if (!target.upload || !target.download) return;
      const v = dataVol!;
      const data = pattern(3 * MiB + 123, 1);
      const progress: JobProgress[] = [];
      await v.upload(Readable.from([data]), { offset: 4096 }, { onProgress: (p) => progress.push(p) });
      expect(progress.length).toBeGreaterThan(0);
      const back = await readAll(await v.download({ offset: 4096, length: data.length }));
      expect(back.equals(data)).toBe(true);
      const mid = await readAll(await v.download({ offset: 4096 + MiB, length: 1000 }));
      expect(mid.equals(data.subarray(MiB, MiB + 1000))).toBe(true);
      // A length shorter than the stream writes only that much.
      await v.upload(Readable.from([pattern(MiB, 9)]), { offset: 0, length: 100 });
      const head = await readAll(await v.download({ offset: 0, length: 200 }));
      expect(head.subarray(0, 100).equals(pattern(MiB, 9).subarray(0, 100))).toBe(true);
      expect(head.subarray(100, 200).equals(Buffer.alloc(100))).toBe(true);
    }, timeout);

    it('sparse upload keeps holes', async () => {
      if (!target.upload || !creatable()) return;
      const v = await pool.createVolumeXml(volXml('sparse', { format: 'raw' }));
      const data = Buffer.concat([pattern(MiB, 3), Buffer.alloc(8 * MiB), pattern(MiB, 4)]);
      await v.upload(Readable.from([data]), { sparse: true });
      const back = await readAll(await v.download({ length: data.length }));
      expect(back.equals(data)).toBe(true);
      const info = await v.getInfo();
      if (info.type === 'file') expect(info.allocation).toBeLessThan(6 * MiB);
      await v.delete();
    }, timeout);

    it('clones a volume, with progress', async () => {
      if (!target.clone || !creatable()) return;
      const seen: JobProgress[] = [];
      const c = await pool.createVolumeXmlFrom(volXml('clone', { format: 'raw', capacity: 0 }), dataVol!, {}, { onProgress: (p) => seen.push(p) });
      expect(seen.length).toBeGreaterThan(0);
      expect((await c.getInfo()).capacity).toBeGreaterThanOrEqual((await dataVol!.getInfo()).capacity);
      if (target.download) {
        const a = await readAll(await dataVol!.download({ length: 4 * MiB }));
        const b = await readAll(await c.download({ length: 4 * MiB }));
        expect(b.equals(a)).toBe(true);
      }
      if (target.formats.includes('qcow2')) {
        const q = await pool.createVolumeXmlFrom(volXml('clone-q', { format: 'qcow2', capacity: 0 }), dataVol!);
        expect(await q.getXmlDesc()).toContain(`<format type='qcow2'/>`);
        await q.delete();
      }
      await c.delete();
    }, timeout);

    it('a cancelled clone leaves no volume behind', async () => {
      if (!target.clone || !creatable() || !target.upload) return;
      const src = await pool.createVolumeXml(volXml('big', { format: 'raw', capacity: 48 * MiB }));
      await src.upload(Readable.from([randomBytes(40 * MiB)]));
      const ac = new AbortController();
      const before = (await pool.listAllVolumes()).length;
      await expectCode(
        pool.createVolumeXmlFrom(volXml('cancelled', { format: 'raw', capacity: 0 }), src, {}, {
          signal: ac.signal,
          onProgress: (p) => {
            if (p.processed > 0) ac.abort();
          },
        }),
        'OPERATION_ABORTED',
      );
      await expectCode(pool.lookupVolume('cancelled'), 'NO_STORAGE_VOL');
      await pool.refresh();
      await expectCode(pool.lookupVolume('cancelled'), 'NO_STORAGE_VOL');
      expect((await pool.listAllVolumes()).length).toBe(before);
      await src.delete();
    }, timeout);

    it('resizes: grows, refuses to shrink without --shrink and keeps the size', async () => {
      if (!target.resize) return;
      const v = creatable() ? await pool.createVolumeXml(volXml('resized', { format: firstFormat() })) : dataVol!;
      const cap = (await v.getInfo()).capacity;
      if (creatable()) {
        await v.resize(cap + 8 * MiB);
        expect((await v.getInfo()).capacity).toBe(cap + 8 * MiB);
      }
      const now = (await v.getInfo()).capacity;
      await expectCode(v.resize(now - 4 * MiB), 'INVALID_ARG');
      expect((await v.getInfo()).capacity).toBe(now);
      if (target.shrink && creatable()) {
        await v.resize(now - 4 * MiB, { shrink: true });
        expect((await v.getInfo()).capacity).toBe(now - 4 * MiB);
      }
      if (creatable()) await v.delete();
    }, timeout);

    it('wipes with libvirt algorithms and reports progress', async () => {
      const algs = target.wipe ?? [];
      if (!algs.length) return;
      const v = dataVol!;
      for (const alg of algs) {
        const seen: JobProgress[] = [];
        await v.wipe(alg, { onProgress: (p) => seen.push(p) });
        expect(seen.length, `progress of ${alg}`).toBeGreaterThan(0);
      }
      if (algs.includes('zero') && target.download) {
        await v.wipe('zero');
        const head = await readAll(await v.download({ length: 2 * MiB }));
        expect(head.equals(Buffer.alloc(2 * MiB))).toBe(true);
      }
      await expectCode(v.wipe('nosuch' as WipeAlgorithm), 'INVALID_ARG');
    }, timeout);

    it('refuses to delete a volume in use, and loses nothing', async () => {
      if (!target.download || !creatable()) return;
      const v = await pool.createVolumeXml(volXml('busy', { format: 'raw' }));
      await v.upload(Readable.from([pattern(MiB, 5)]));
      const stream = await v.download();
      await expectCode(v.delete(), 'OPERATION_INVALID');
      await expectCode(v.wipe('zero'), 'OPERATION_INVALID');
      await expectCode(pool.destroy(), 'OPERATION_INVALID');
      stream.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const head = await readAll(await v.download({ length: MiB }));
      expect(head.equals(pattern(MiB, 5))).toBe(true);
      if (target.openFileCheck && v.path.startsWith('/') && existsSync(v.path)) {
        // A running process holds the volume locked, as QEMU locks a guest's disks.
        const holder = spawn('flock', ['--shared', v.path, 'sleep', '30'], { stdio: 'ignore', detached: true });
        try {
          await new Promise((r) => setTimeout(r, 200));
          await expectCode(v.delete(), 'OPERATION_INVALID');
          await expectCode(v.wipe('zero'), 'OPERATION_INVALID');
        } finally {
          // flock and its sleep (which inherited the lock) are one process group.
          process.kill(-holder.pid!, 'SIGKILL');
          await new Promise((r) => holder.once('close', r));
          // The sleep that inherited the lock may outlive flock by a moment: wait for the whole group.
          for (let i = 0; i < 100; i++) {
            try {
              process.kill(-holder.pid!, 0);
            } catch {
              break;
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      }
      await v.delete();
      await expectCode(pool.lookupVolume('busy'), 'NO_STORAGE_VOL');
    }, timeout);

    it('pool-refresh finds volumes made behind its back', async () => {
      if (!target.addExternalVolume) return;
      await target.addExternalVolume('external.img');
      await expectCode(pool.lookupVolume('external.img'), 'NO_STORAGE_VOL');
      await pool.refresh();
      const v = await pool.lookupVolume('external.img');
      expect((await v.getInfo()).capacity).toBeGreaterThan(0);
      await v.delete();
    }, timeout);

    it('find-storage-pool-sources', async () => {
      if (!target.findSources) return;
      const xml = await conn.findStoragePoolSources(opts.poolType, target.findSources.spec);
      expect(xml).toContain(target.findSources.expect);
    }, timeout);

    it('a paused QEMU guest opens a volume of the pool', async () => {
      if (target.qemu !== true) {
        console.warn(`[storage testkit] ${opts.name}: QEMU guest check skipped (${target.qemu})`);
        return;
      }
      const sources: VolumeDiskSource[] = [];
      const names: string[] = [];
      if (creatable()) {
        for (const f of target.formats.filter((x) => x === 'qcow2' || x === 'raw')) names.push(`v-${f}`);
      } else names.push(dataVol!.name);
      for (const n of names) sources.push(await resolveVolumeDiskSource(conn.storage, poolName, n));
      const blocks = await queryBlockInPausedGuest(sources, {
        // A running guest's disk is locked by QEMU: deleting it is refused, and nothing is lost.
        whileRunning: async () => {
          const s = sources[0]!;
          if (s.type === 'file' || (s.type === 'block' && !s.slice)) {
            const v = await pool.lookupVolume(names[0]!);
            await expectCode(v.delete(), 'OPERATION_INVALID');
          }
        },
      });
      expect(blocks.length).toBe(sources.length);
      sources.forEach((s, i) => {
        const b = blocks.find((x) => x.qdev?.includes(`disk${i}`) || x.device === `disk${i}`) ?? blocks[i]!;
        expect(b.inserted, JSON.stringify(b)).toBeTruthy();
        expect(b.inserted!.image?.['virtual-size'] ?? 0).toBeGreaterThan(0);
        if (s.format) expect(b.inserted!.drv).toBe(s.format);
      });
    }, timeout);

    it('autostart and a transient pool', async () => {
      await pool.setAutostart(true);
      expect((await pool.refreshSummary()).autostart).toBe(true);
      await pool.setAutostart(false);
      expect((await pool.refreshSummary()).autostart).toBe(false);
    }, timeout);

    it('stops, deletes and undefines the pool', async () => {
      for (const v of await pool.listAllVolumes()) {
        if (!target.existingVolumes?.includes(v.name)) await v.delete();
      }
      await pool.destroy();
      expect(await pool.isActive()).toBe(false);
      await expectCode(pool.listAllVolumes(), 'OPERATION_INVALID');
      await expectCode(pool.destroy(), 'OPERATION_INVALID');
      if (target.deletePool) await pool.delete();
      await pool.undefine();
      await expectCode(conn.lookupStoragePool(poolName), 'NO_STORAGE_POOL');
      const kinds = events.filter((e) => e.kind === 'pool' && e.pool.name === poolName).map((e) => (e as { type: string }).type);
      expect(kinds.slice(-3)).toEqual(target.deletePool ? ['stopped', 'deleted', 'undefined'] : [kinds.at(-3), 'stopped', 'undefined']);
    }, timeout);

    it('pool-create makes a transient pool that is gone once stopped', async () => {
      const name = `${prefix}-transient`;
      const p = await conn.createStoragePoolXml(target.poolXml(name), target.build ? { build: true } : {});
      const s = await p.refreshSummary();
      expect(s.state).toBe('running');
      expect(s.persistent).toBe(false);
      await expectCode(p.setAutostart(true), 'OPERATION_INVALID');
      await p.destroy();
      await expectCode(conn.lookupStoragePool(name), 'NO_STORAGE_POOL');
      if (target.deletePool) {
        // pool-delete needs a defined pool: define it again to remove what build made.
        const again = await conn.defineStoragePoolXml(target.poolXml(name));
        await again.delete().catch(() => {});
        await again.undefine();
      }
    }, timeout);
  });
}
