import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtError, sharedDataDir } from '@virtkit/core';
import { capsFromExchanges, parseRepliesFile } from './from-exchanges.js';
import { capsDataFromLibvirtXml, loadLibvirtCapsDump } from './from-xml.js';
import { probeQemuCaps } from './probe.js';
import { QapiSchema } from './qapi-schema.js';

// libvirt 9.0's test dump: shared/ sits next to the repository checkout.
const DUMP_DIR = sharedDataDir('conformance/qemu-argv') ?? '/nonexistent';
const XML = join(DUMP_DIR, 'caps_8.0.0.x86_64.xml');
const REPLIES = join(DUMP_DIR, 'caps_8.0.0.x86_64.replies');
const haveDump = existsSync(XML) && existsSync(REPLIES);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtkit-caps-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!haveDump)("libvirt's caps_8.0.0 dump", () => {
  it('reads the XML into the typed object', async () => {
    const caps = await loadLibvirtCapsDump(XML, REPLIES);
    expect(caps.version).toBe(7002050);
    expect(caps.versionString).toBe('7.2.50');
    expect(caps.arch).toBe('x86_64');
    expect(caps.flags.size).toBe(199);
    expect(caps.has('blockdev-reopen')).toBe(true);
    expect(caps.has('no-such-flag')).toBe(false);
    expect(caps.defaultMachine('kvm')?.name).toBe('pc-i440fx-8.0');
    expect(caps.canonicalMachine('q35', 'tcg')).toBe('pc-q35-8.0');
    expect(caps.machine('pc', 'kvm')).toMatchObject({ maxCpus: 255, hotplugCpus: true, defaultCpu: 'qemu64-x86_64-cpu' });
    expect(() => caps.canonicalMachine('virt', 'kvm')).toThrow(VirtError);
    expect(caps.cpuModel('Haswell', 'kvm')).toMatchObject({ usable: 'no' });
    expect(caps.cpuModel('Haswell', 'kvm')!.blockers.length).toBeGreaterThan(0);
    expect(caps.accel('kvm').hostCpu?.props.length).toBeGreaterThan(100);
    expect(caps.data.hypervCapabilities).toContain('avic');
    // from the replies: the schema and device properties
    expect(caps.schemaHas('blockdev-add/arg-type/+file/aio/^io_uring')).toBe(true);
    expect(caps.schemaHas('blockdev-add/arg-type/+file/aio/^no-such-aio')).toBe(false);
    expect(caps.deviceHasProperty('virtio-blk-pci', 'num-queues')).toBe(true);
    expect(caps.hasDevice('virtio-net-pci')).toBe(true);
  });

  it('derives from the QMP replies exactly the flags libvirt 9.0 derived', async () => {
    const xml = capsDataFromLibvirtXml(await readFile(XML, 'utf8'));
    const probed = capsFromExchanges(parseRepliesFile(await readFile(REPLIES, 'utf8')), xml.binary);
    expect(probed.flags).toEqual([...xml.flags].sort());
    expect(probed.version).toBe(xml.version);
    expect(probed.kvm.machines.map((m) => m.name)).toEqual(xml.kvm.machines.map((m) => m.name));
    expect(probed.tcg.machines.map((m) => m.name)).toEqual(xml.tcg.machines.map((m) => m.name));
    expect(probed.kvm.cpuModels.map((c) => [c.name, c.usable])).toEqual(xml.kvm.cpuModels.map((c) => [c.name, c.usable]));
  });

  it('rejects malformed input with typed errors', () => {
    expect(() => capsDataFromLibvirtXml('<domain/>')).toThrow(/expected <qemuCaps>/);
    expect(() => parseRepliesFile('{"execute": "x"}\n\n{not json')).toThrow(VirtError);
  });
});

describe('QapiSchema queries', () => {
  const schema = new QapiSchema([
    { name: 'cmd', 'meta-type': 'command', 'arg-type': 'A', 'ret-type': 'L', features: ['json-cli'] },
    { name: 'A', 'meta-type': 'object', members: [{ name: 'kind', type: 'E' }, { name: 'opt', type: 'int', default: null }], tag: 'kind', variants: [{ case: 'file', type: 'F' }] },
    { name: 'F', 'meta-type': 'object', members: [{ name: 'aio', type: 'E' }] },
    { name: 'E', 'meta-type': 'enum', values: ['file', 'io_uring'] },
    { name: 'L', 'meta-type': 'array', 'element-type': 'F' },
    { name: 'int', 'meta-type': 'builtin', 'json-type': 'int' },
  ]);
  it('follows members, variants, enums, features, arrays and builtins', () => {
    expect(schema.query('cmd/arg-type/+file/aio/^io_uring')).toBe(true);
    expect(schema.query('cmd/arg-type/+file/aio/^native')).toBe(false);
    expect(schema.query('cmd/arg-type/*opt')).toBe(true);
    expect(schema.query('cmd/arg-type/*kind')).toBe(false);
    expect(schema.query('cmd/$json-cli')).toBe(true);
    expect(schema.query('cmd/$other')).toBe(false);
    expect(schema.query('cmd/ret-type/aio/^file')).toBe(true);
    expect(schema.query('cmd/arg-type/opt/!int')).toBe(true);
    expect(schema.query('nope/arg-type')).toBe(false);
  });
});

describe('probing the installed QEMU', () => {
  it('probes once, then loads from the disk cache', async () => {
    const cacheDir = join(dir, 'cache');
    const t0 = performance.now();
    const caps = await probeQemuCaps({ cacheDir, accelerators: ['tcg'] });
    const probeMs = performance.now() - t0;
    const banner = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
    const [, maj, min, mic] = /version (\d+)\.(\d+)\.(\d+)/.exec(banner)!;
    expect(caps.versionString).toBe(`${maj}.${min}.${mic}`);
    expect(caps.arch).toBe('x86_64');
    expect(caps.defaultMachine('tcg')?.name).toMatch(/^pc-i440fx-/);
    expect(caps.machine('q35', 'tcg')).toBeDefined();
    expect(caps.cpuModel('qemu64', 'tcg')?.usable).toBe('yes');
    expect(caps.has('virtio-net')).toBe(true);
    expect(caps.has('query-hotpluggable-cpus')).toBe(true);
    expect(caps.has('kvm')).toBe(false);
    expect(caps.schemaHas('device_add/arg-type')).toBe(true);
    expect((await readdir(cacheDir)).some((f) => f.startsWith('caps-'))).toBe(true);
    console.log(`capabilities probe: ${probeMs.toFixed(0)} ms, ${caps.flags.size} flags`);
    // Another cache folder holding the same file: read from disk, no QEMU started.
    const other = join(dir, 'cache2');
    await cp(cacheDir, other, { recursive: true });
    const t1 = performance.now();
    const again = await probeQemuCaps({ cacheDir: other, accelerators: ['tcg'] });
    expect(performance.now() - t1).toBeLessThan(probeMs);
    expect([...again.flags]).toEqual([...caps.flags]);
  });
});
