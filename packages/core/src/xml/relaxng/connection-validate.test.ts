import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection } from '../../connection.js';
import { PluginLoader } from '../../loader.js';
import { repositoryRoot } from '../../shared-data.js';
import { findLibvirtSchemaDir } from './schema-dir.js';

const schemaDir = findLibvirtSchemaDir();
if (!schemaDir) console.log("connection --validate tests skipped: no libvirt schema folder found (install Debian's libvirt0, or set VIRTKIT_SCHEMA_DIR)");

const root = mkdtempSync(join(tmpdir(), 'vk-rng-conn-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A driver that checks nothing and records what reaches it: what a driver
// without its own --validate support (LXC, Xen, networks, storage) sees.
const recordingDriver = `
const calls = (globalThis.__vkSchemaCalls ??= []);
const stored = (globalThis.__vkSchemaStored ??= new Map());
const uuid = '11111111-2222-3333-4444-555555555555';
const nameOf = (xml) => (/<name>([^<]*)<\\/name>/.exec(xml) ?? [])[1] ?? '?';
export default async (ctx) => ({
  name: 'schemafake', uri: ctx.uri.raw, capabilities: new Set(['domain.lifecycle', 'network', 'storage']),
  getHostname: async () => 'h', getVersion: async () => ({ hypervisor: 'X', version: '1.0.0' }),
  getCapabilities: async () => '<capabilities/>', getNodeInfo: async () => ({}), close: async () => {},
  domains: {
    defineDomain: async (xml, opts) => { calls.push(['defineDomain', opts]); stored.set('domain:' + nameOf(xml), xml); return { id: -1, name: nameOf(xml), uuid, state: 'shutoff', reason: 'unknown', persistent: true, autostart: false, managedSave: false }; },
  },
  networks: {
    defineNetwork: async (xml, opts) => { calls.push(['defineNetwork', opts]); stored.set('network:' + nameOf(xml), xml); return { name: nameOf(xml), uuid, active: false, persistent: true, autostart: false }; },
  },
  storage: {
    definePool: async (xml, opts) => { calls.push(['definePool', opts]); stored.set('pool:' + nameOf(xml), xml); return { name: nameOf(xml), uuid, type: 'dir', state: 'inactive', persistent: true, autostart: false }; },
    createVolume: async (pool, xml, opts) => { calls.push(['createVolume', opts]); stored.set('vol:' + nameOf(xml), xml); return { pool: 'p', name: nameOf(xml), key: '/k', path: '/k', type: 'file' }; },
  },
});`;

const pluginDir = join(root, 'schemafake');
mkdirSync(pluginDir);
writeFileSync(join(pluginDir, 'package.json'), JSON.stringify({ name: 'virtkit-driver-schemafake', type: 'module', main: 'index.js', virtkit: { kind: 'hypervisor', schemes: ['schemafake'] } }));
writeFileSync(join(pluginDir, 'index.js'), recordingDriver);

const g = globalThis as { __vkSchemaCalls?: Array<[string, unknown]>; __vkSchemaStored?: Map<string, string> };

const DOMAIN = "<domain type='lxc'><name>c1</name><memory unit='MiB'>64</memory><os><type>exe</type><init>/bin/sh</init></os><devices><console type='pty'/></devices></domain>";
const NETWORK = "<network><name>n1</name><bridge name='vkbr9'/></network>";
const POOL = "<pool type='dir'><name>p1</name><target><path>/var/lib/virtkit/p1</path></target></pool>";
const VOLUME = "<volume><name>v1.img</name><capacity unit='M'>1</capacity><target><format type='raw'/></target></volume>";

describe.skipIf(!schemaDir)('--validate through the API, for any driver', () => {
  const loader = new PluginLoader({ roots: [], pluginPath: pluginDir });

  it('refuses invalid documents before the driver sees them, keeping what is stored', async () => {
    const conn = await Connection.open('schemafake:///x', { loader });
    g.__vkSchemaCalls!.length = 0;
    g.__vkSchemaStored?.clear();
    await conn.defineDomainXml(DOMAIN);
    await expect(conn.defineDomainXml(DOMAIN.replace('<devices>', '<devices><frobnicator/>'), { validate: true })).rejects.toMatchObject({
      code: 'XML_ERROR',
      message: expect.stringMatching(/domain\.rng\n\/domain\/devices\/frobnicator: unexpected element <frobnicator>/),
    });
    await expect(conn.defineNetworkXml(NETWORK.replace("<bridge name='vkbr9'/>", "<bridge name='vkbr9' stp='maybe'/>"), { validate: true })).rejects.toMatchObject({
      code: 'XML_ERROR',
      message: expect.stringMatching(/network\.rng\n\/network\/bridge: invalid value 'maybe' for attribute 'stp'/),
    });
    await expect(conn.defineStoragePoolXml(POOL.replace('<name>p1</name>', ''), { validate: true })).rejects.toMatchObject({
      code: 'XML_ERROR',
      message: expect.stringMatching(/storagepool\.rng\n\/pool: missing required element <name> in <pool>/),
    });
    // Nothing reached the driver but the first, unvalidated define.
    expect(g.__vkSchemaCalls!.map(([c]) => c)).toEqual(['defineDomain']);
    expect(g.__vkSchemaStored?.get('domain:c1')).toBe(DOMAIN);
    await conn.close();
  });

  it('passes valid documents on, with the driver\'s own model check off', async () => {
    const conn = await Connection.open('schemafake:///x', { loader });
    g.__vkSchemaCalls!.length = 0;
    await conn.defineDomainXml(DOMAIN, { validate: true });
    await conn.defineNetworkXml(NETWORK, { validate: true });
    const pool = await conn.defineStoragePoolXml(POOL, { validate: true });
    await pool.createVolumeXml(VOLUME, { validate: true });
    await expect(pool.createVolumeXml(VOLUME.replace("unit='M'", "unit='lots'"), { validate: true })).rejects.toMatchObject({ code: 'XML_ERROR' });
    expect(g.__vkSchemaCalls).toEqual([
      ['defineDomain', { validate: false }],
      ['defineNetwork', { validate: false }],
      ['definePool', { validate: false }],
      ['createVolume', { validate: false }],
    ]);
    await conn.close();
  });
});

// test:///default through the real test driver, when it is built.
const repo = repositoryRoot();
const testDriverDir = repo ? resolve(repo, 'packages', 'driver-test') : undefined;
const testDriverBuilt = !!testDriverDir && existsSync(join(testDriverDir, 'dist', 'index.js'));
if (schemaDir && !testDriverBuilt) console.log('test:///default --validate test skipped: packages/driver-test is not built (pnpm build)');

describe.skipIf(!schemaDir || !testDriverBuilt)('--validate on test:///default', () => {
  const loader = new PluginLoader({ roots: [], pluginPath: testDriverDir });

  it('refuses an invalid domain, network and pool and keeps the stored ones', async () => {
    const conn = await Connection.open('test:///default', { loader });
    const before = await (await conn.lookupDomainByName('test')).getXmlDesc({ inactive: true });
    const bad = before.replace(/<memory unit='KiB'>/, "<memory unit='bogus'>");
    expect(bad).not.toBe(before);
    await expect(conn.defineDomainXml(bad, { validate: true })).rejects.toMatchObject({ code: 'XML_ERROR', message: expect.stringMatching(/\/domain\/memory: invalid value 'bogus' for attribute 'unit'/) });
    expect(await (await conn.lookupDomainByName('test')).getXmlDesc({ inactive: true })).toBe(before);
    // What the driver writes validates, so `virsh edit` can redefine it as is.
    await conn.defineDomainXml(before, { validate: true });

    const net = await (await conn.lookupNetwork('default')).getXmlDesc();
    await expect(conn.defineNetworkXml(net.replace('<network', '<network frob="1"'), { validate: true })).rejects.toMatchObject({ code: 'XML_ERROR', message: expect.stringMatching(/unexpected attribute 'frob'/) });
    expect(await (await conn.lookupNetwork('default')).getXmlDesc()).toBe(net);
    await conn.defineNetworkXml(net, { validate: true });

    const pool = await (await conn.lookupStoragePool('default-pool')).getXmlDesc();
    await expect(conn.defineStoragePoolXml(pool.replace("type='dir'", "type='cloud'"), { validate: true })).rejects.toMatchObject({ code: 'XML_ERROR' });
    expect(await (await conn.lookupStoragePool('default-pool')).getXmlDesc()).toBe(pool);
    await conn.close();
  });
});
