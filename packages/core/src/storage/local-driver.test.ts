import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtError } from '../errors.js';
import { EventBus, type VirtEvent } from '../events.js';
import type { PluginResolver } from '../driver.js';
import { parseUri } from '../uri.js';
import type { StorageVolDef } from '../models/storage/volume.js';
import type { StoragePoolBackend } from './backend.js';
import { LocalStorageDriver } from './local-driver.js';
import { formatPoolOptionsXml, poolOption, poolOptions } from './pool-options.js';
import { decodeState, encodeState } from './state-codec.js';
import { parseStoragePoolXml } from '../models/storage/pool.js';
import { XmlElement } from '../xml/tree.js';
import { resolveVolumeDiskSource, networkSourceFromUrl } from './volume-disk.js';

const root = mkdtempSync(join(tmpdir(), 'vk-core-storage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An in-memory backend: volumes are entries of a map, data is a Buffer. */
function memoryBackend(type = 'mem'): StoragePoolBackend & { data: Map<string, Buffer>; started: number } {
  const data = new Map<string, Buffer>();
  const vol = (name: string, size: number): StorageVolDef => ({
    name,
    key: `mem:${name}`,
    type: 'file',
    extents: [],
    capacity: BigInt(size),
    allocation: BigInt(size),
    hasAllocation: true,
    target: { path: `/mem/${name}`, perms: {}, nocow: false, format: 'raw' },
  });
  const b = {
    type,
    data,
    started: 0,
    async startPool() {
      b.started++;
    },
    async stopPool() {
      b.started--;
    },
    async refreshPool() {
      return { capacity: 1n << 30n, allocation: 0n, available: 1n << 30n, volumes: [...data].map(([n, d]) => vol(n, d.length)) };
    },
    async createVol(_p: unknown, v: StorageVolDef) {
      v.key = `mem:${v.name}`;
      v.target.path = `/mem/${v.name}`;
    },
    async buildVol(_p: unknown, v: StorageVolDef, _o: unknown, job: { signal?: AbortSignal; onProgress?: (p: { processed: number; total: number }) => void }) {
      job.onProgress?.({ processed: 0, total: 1 });
      if (job.signal?.aborted) throw new VirtError('OPERATION_ABORTED', 'cancelled');
      data.set(v.name, Buffer.alloc(Number(v.capacity)));
      job.onProgress?.({ processed: 1, total: 1 });
    },
    async refreshVol(_p: unknown, v: StorageVolDef) {
      const d = data.get(v.name);
      if (!d) throw new VirtError('NO_STORAGE_VOL', 'gone');
      v.capacity = BigInt(d.length);
      v.allocation = BigInt(d.length);
    },
    async deleteVol(_p: unknown, v: StorageVolDef) {
      data.delete(v.name);
    },
    async resizeVol(_p: unknown, v: StorageVolDef, cap: bigint) {
      const d = data.get(v.name)!;
      const n = Buffer.alloc(Number(cap));
      d.copy(n, 0, 0, Math.min(d.length, n.length));
      data.set(v.name, n);
    },
    async downloadVol(_p: unknown, v: StorageVolDef) {
      return Readable.from([data.get(v.name)!]);
    },
  };
  return b as never;
}

const noPlugins: PluginResolver = { storageBackend: async () => undefined, networkMode: async () => undefined, list: () => [] };

function driver(backend: StoragePoolBackend, events = new EventBus(), dir = root): LocalStorageDriver {
  return new LocalStorageDriver(parseUri(`storage:///embed?root=${dir}`), { events, plugins: noPlugins, backends: { [backend.type]: backend }, autostart: false });
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(VirtError);
    return (err as VirtError).code;
  }
  return 'no error';
}

const poolXml = (name: string, type = 'mem') => `<pool type='${type}'><name>${name}</name><target><path>/x/${name}</path></target></pool>`;

describe('local storage driver', () => {
  const mem = memoryBackend();
  const events: VirtEvent[] = [];
  const bus = new EventBus();
  bus.on('*', (e) => events.push(e));
  const d = driver(mem, bus);

  it('persists definitions as XML, state as JSON, autostart as links', async () => {
    // 'mem' is not a libvirt pool type: the XML model refuses it before any file is written.
    expect(await code(d.definePool(poolXml('a')))).toBe('XML_ERROR');
    const dirDriver = driver(memoryBackend('dir'), bus);
    const s = await dirDriver.definePool(poolXml('a', 'dir'));
    expect(readFileSync(join(root, 'etc', 'storage', 'a.xml'), 'utf8')).toContain('<name>a</name>');
    await dirDriver.setPoolAutostart(s.uuid, true);
    expect(lstatSync(join(root, 'etc', 'storage', 'autostart', 'a.xml')).isSymbolicLink()).toBe(true);
    await dirDriver.startPool(s.uuid);
    expect(existsSync(join(root, 'run', 'storage', 'a.json'))).toBe(true);
    // A second driver (another process) sees the same pool, active.
    const other = driver(memoryBackend('dir'));
    expect((await other.lookupPool({ name: 'a' })).state).toBe('running');
    expect(await code(other.startPool(s.uuid))).toBe('OPERATION_INVALID');
    await dirDriver.destroyPool(s.uuid);
    expect(existsSync(join(root, 'run', 'storage', 'a.json'))).toBe(false);
    await dirDriver.undefinePool(s.uuid);
    expect(existsSync(join(root, 'etc', 'storage', 'autostart', 'a.xml'))).toBe(false);
    expect(events.filter((e) => e.kind === 'pool').map((e) => (e as { type: string }).type)).toEqual(['defined', 'started', 'stopped', 'undefined']);
  });

  it('gives typed errors and changes nothing on bad input', async () => {
    const b = memoryBackend('dir');
    const x = driver(b);
    expect(await code(x.lookupPool({ name: 'nope' }))).toBe('NO_STORAGE_POOL');
    expect(await code(x.lookupPool({ name: '../etc' }))).toBe('NO_STORAGE_POOL');
    expect(await code(x.definePool(poolXml('..', 'dir')))).toBe('XML_ERROR');
    expect(await code(x.definePool(poolXml('a/b', 'dir')))).toBe('XML_ERROR');
    expect(await code(x.definePool('<pool'))).toBe('XML_ERROR');
    expect(await code(x.definePool(poolXml('f', 'fs').replace('<target>', "<source><device path='/dev/x'/></source><target>")))).toBe('NO_SUPPORT');
    const p = await x.definePool(poolXml('b', 'dir'));
    expect(await code(x.definePool(poolXml('b', 'dir').replace('</name>', '</name><uuid>00000000-0000-4000-8000-000000000001</uuid>')))).toBe('OPERATION_FAILED');
    expect(await code(x.definePool(poolXml('c', 'dir').replace('</name>', `</name><uuid>${p.uuid}</uuid>`)))).toBe('OPERATION_FAILED');
    // Same target folder as 'b'.
    expect(await code(x.definePool(`<pool type='dir'><name>c</name><target><path>/x/b</path></target></pool>`))).toBe('OPERATION_FAILED');
    expect(await code(x.listVolumes(p.uuid))).toBe('OPERATION_INVALID');
    expect(await code(x.deletePool(p.uuid))).toBe('NO_SUPPORT');
    await x.startPool(p.uuid);
    expect(await code(x.undefinePool(p.uuid))).toBe('OPERATION_INVALID');
    const vx = (n: string, cap = 1024) => `<volume><name>${n}</name><capacity>${cap}</capacity></volume>`;
    expect(await code(x.createVolume(p.uuid, vx('a/b')))).toBe('OPERATION_INVALID');
    expect(await code(x.createVolume(p.uuid, vx('..')))).toBe('OPERATION_INVALID');
    await x.createVolume(p.uuid, vx('v'));
    expect(await code(x.createVolume(p.uuid, vx('v')))).toBe('STORAGE_VOL_EXIST');
    expect(await code(x.resizeVolume({ pool: 'b', name: 'v' }, 512))).toBe('INVALID_ARG');
    expect((await x.getVolumeInfo({ pool: 'b', name: 'v' })).capacity).toBe(1024);
    await x.resizeVolume({ pool: 'b', name: 'v' }, 4096, {});
    expect((await x.getVolumeInfo({ pool: 'b', name: 'v' })).capacity).toBe(4096);
    expect(await code(x.wipeVolume({ pool: 'b', name: 'v' }))).toBe('NO_SUPPORT');
    expect(await code(x.uploadVolume({ pool: 'b', name: 'v' }, Readable.from([]), {}))).toBe('NO_SUPPORT');
    expect(await code(x.lookupVolume({ key: 'nope' }))).toBe('NO_STORAGE_VOL');
    expect((await x.lookupVolume({ key: 'mem:v' })).name).toBe('v');
    expect((await x.lookupPool({ volumeKey: 'mem:v' })).name).toBe('b');
    // A download in progress makes the volume busy, for this and other processes.
    const s = await x.downloadVolume({ pool: 'b', name: 'v' });
    expect(await code(x.deleteVolume({ pool: 'b', name: 'v' }))).toBe('OPERATION_INVALID');
    expect(await code(driver(b).deleteVolume({ pool: 'b', name: 'v' }))).toBe('OPERATION_INVALID');
    expect(await code(x.destroyPool(p.uuid))).toBe('OPERATION_INVALID');
    s.destroy();
    await new Promise((r) => setTimeout(r, 20));
    await x.deleteVolume({ pool: 'b', name: 'v' });
    expect(b.data.has('v')).toBe(false);
    await x.destroyPool(p.uuid);
    await x.undefinePool(p.uuid);
  });

  it('reports progress with the operation name and honours cancellation', async () => {
    const b = memoryBackend('dir');
    const x = driver(b);
    const p = await x.createPool(poolXml('t', 'dir'));
    expect((await x.lookupPool({ uuid: p.uuid })).persistent).toBe(false);
    const seen: Array<{ operation?: string }> = [];
    await x.createVolume(p.uuid, `<volume><name>v</name><capacity>8</capacity></volume>`, {}, { onProgress: (e) => seen.push(e) });
    expect(seen.map((e) => e.operation)).toEqual(['volume-create', 'volume-create']);
    const ac = new AbortController();
    ac.abort();
    expect(await code(x.createVolume(p.uuid, `<volume><name>w</name><capacity>8</capacity></volume>`, {}, { signal: ac.signal }))).toBe('OPERATION_ABORTED');
    expect(await code(x.lookupVolume({ pool: 't', name: 'w' }))).toBe('NO_STORAGE_VOL');
    await x.deleteVolume({ pool: 't', name: 'v' });
    await x.destroyPool(p.uuid);
    // A transient pool is gone once stopped.
    expect(await code(x.lookupPool({ uuid: p.uuid }))).toBe('NO_STORAGE_POOL');
  });

  it('resolves volume disks', async () => {
    const b = memoryBackend('dir');
    const x = driver(b);
    const p = await x.createPool(poolXml('r', 'dir'));
    await x.createVolume(p.uuid, `<volume><name>disk</name><capacity>8</capacity><target><format type='raw'/></target></volume>`);
    expect(await resolveVolumeDiskSource(x, 'r', 'disk')).toEqual({ type: 'file', path: '/mem/disk', format: 'raw' });
    expect(networkSourceFromUrl('iscsi://127.0.0.1:3261/iqn.2024-01.dev.virtkit:t/1', 'raw')).toMatchObject({
      type: 'network',
      protocol: 'iscsi',
      name: 'iqn.2024-01.dev.virtkit:t/1',
      hosts: [{ name: '127.0.0.1', port: 3261 }],
    });
    await x.deleteVolume({ pool: 'r', name: 'disk' });
    await x.destroyPool(p.uuid);
  });

  it('leaves no lock or job files behind', () => {
    expect(readdirSync(join(root, 'run', 'storage', 'locks'))).toEqual([]);
    for (const d of readdirSync(join(root, 'run', 'storage', 'jobs'))) expect(readdirSync(join(root, 'run', 'storage', 'jobs', d))).toEqual([]);
  });
});

describe('pool options and state files', () => {
  it('reads virtkit options from the pool XML and keeps them on output', () => {
    const def = parseStoragePoolXml(`<pool type='logical'><name>v</name><source><name>vg</name></source>${formatPoolOptionsXml({ activation: 'no' })}</pool>`);
    expect(poolOptions(def)).toEqual(new Map([['activation', 'no']]));
    expect(poolOption(def, 'activation', ['yes', 'no', 'auto'] as const, 'auto')).toBe('no');
    expect(poolOption(def, 'other', ['a', 'b'] as const, 'a')).toBe('a');
    const bad = parseStoragePoolXml(`<pool type='logical'><name>v</name><source><name>vg</name></source>${formatPoolOptionsXml({ activation: 'maybe' })}</pool>`);
    expect(() => poolOption(bad, 'activation', ['yes', 'no', 'auto'] as const, 'auto')).toThrow(VirtError);
    // A prefix declared on the root works too.
    const root = parseStoragePoolXml(
      `<pool type='logical' xmlns:vk='http://virtkit.dev/schemas/storagepool/1.0'><name>v</name><source><name>vg</name></source><vk:options><vk:option name='activation' value='yes'/></vk:options></pool>`,
    );
    expect(poolOptions(root).get('activation')).toBe('yes');
  });

  it('round-trips bigints and kept XML through state JSON', () => {
    const v = { size: 1n << 62n, el: new XmlElement('x', { a: '1' }, ['t']), list: [1, 'two'] };
    const back = decodeState<typeof v>(encodeState(v));
    expect(back.size).toBe(1n << 62n);
    expect(back.el).toBeInstanceOf(XmlElement);
    expect(back.el.attr('a')).toBe('1');
    expect(back.list).toEqual([1, 'two']);
  });
});
