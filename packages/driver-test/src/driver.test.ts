import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Connection, PluginLoader, sharedDataDir, VirtError } from '@virtkit/core';
import { runDriverTestkit } from '@virtkit/driver-testkit';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const loader = new PluginLoader({ roots: [], pluginPath: pkgDir });
const shared = sharedDataDir() ?? join(pkgDir, '../../../shared');
const open = (uri: string, readonly = false) => Connection.open(uri, { loader, readonly });

const domainXml = (name: string, uuid?: string) =>
  `<domain type='test'><name>${name}</name>${uuid ? `<uuid>${uuid}</uuid>` : ''}<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

runDriverTestkit({
  name: 'test:///default',
  open: () => open('test:///default'),
  openReadonly: () => open('test:///default', true),
  domainXml,
});

describe('test:///default', () => {
  it('has libvirt\'s default objects', async () => {
    const conn = await open('test:///default');
    const test = await conn.lookupDomainByName('test');
    expect(test.id).toBeGreaterThanOrEqual(1);
    expect(test.uuid).toBe('6695eb01-f6a4-8304-79aa-97f2502e193f');
    expect((await test.getState()).state).toBe('running');
    expect((await conn.lookupNetwork('default')).uuid).toBe('dd8fe884-6c02-601e-7551-cca97df1c5df');
    expect((await conn.lookupStoragePool('default-pool')).uuid).toBe('dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566');
    expect((await conn.lookupInterface('eth1')).mac).toBe('aa:bb:cc:dd:ee:ff');
    expect(await conn.getNodeInfo()).toMatchObject({ model: 'i686', cpus: 16, mhz: 1400, nodes: 2, memoryKiB: 3145728 });
    const xml = await test.getXmlDesc();
    expect(xml).toMatch(/^<domain type='test' id='\d+'>/);
    expect(xml).toContain("<target dev='testnet0'/>");
    expect(xml).toContain("<type arch='i686'>hvm</type>");
    await conn.close();
  });

  it('shares one host between the connections of a process', async () => {
    const a = await open('test:///default');
    const b = await open('test:///default');
    const seen: string[] = [];
    b.on('domain', (e) => seen.push(`${e.domain.name}:${e.type}`));
    const d = await a.defineDomainXml(domainXml('shared-one'));
    expect((await b.lookupDomainByName('shared-one')).uuid).toBe(d.uuid);
    await d.undefine();
    expect(seen).toEqual(['shared-one:defined', 'shared-one:undefined']);
    await a.close();
    await b.close();
  });

  it('runs the network and pool state machines with events', async () => {
    const conn = await open('test:///default');
    const kinds: string[] = [];
    conn.on('*', (e) => kinds.push(`${e.kind}:${'type' in e ? e.type : ''}`));
    const net = await conn.defineNetworkXml("<network><name>tk-net</name><bridge name='tkbr0'/><ip address='10.9.0.1' prefix='24'><dhcp><range start='10.9.0.2' end='10.9.0.9'/><host mac='52:54:00:00:00:09' ip='10.9.0.9' name='h9'/></dhcp></ip></network>");
    await net.start();
    expect(await net.isActive()).toBe(true);
    const leases = await net.getDhcpLeases();
    expect(leases.map((l) => [l.mac, l.ipaddr, l.hostname])).toEqual([['52:54:00:00:00:09', '10.9.0.9', 'h9']]);
    await expect(net.start()).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
    await net.destroy();
    await net.undefine();
    await expect(conn.lookupNetwork('tk-net')).rejects.toMatchObject({ code: 'NO_NETWORK' });

    const pool = await conn.defineStoragePoolXml("<pool type='dir'><name>tk-pool</name><target><path>/tk</path></target></pool>");
    await pool.build();
    await pool.start();
    const vol = await pool.createVolumeXml("<volume><name>a.img</name><capacity unit='MiB'>10</capacity><allocation unit='MiB'>1</allocation></volume>");
    expect(vol.path).toBe('/tk/a.img');
    expect((await pool.getInfo()).allocation).toBe(1048576);
    await expect(vol.resize(1024)).rejects.toMatchObject({ code: 'INVALID_ARG' });
    await vol.resize(20 * 1048576);
    expect((await vol.getInfo()).capacity).toBe(20 * 1048576);
    const clone = await pool.createVolumeXmlFrom("<volume><name>b.img</name><capacity>0</capacity></volume>", vol);
    expect((await clone.getInfo()).capacity).toBe(20 * 1048576);
    await expect(pool.createVolumeXml("<volume><name>a.img</name><capacity>1</capacity></volume>")).rejects.toMatchObject({ code: 'STORAGE_VOL_EXIST' });
    await vol.delete();
    await clone.delete();
    await expect(pool.undefine()).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
    await pool.destroy();
    await pool.undefine();
    expect(kinds).toEqual(['network:defined', 'network:started', 'network:stopped', 'network:undefined', 'pool:defined', 'pool:created', 'pool:started', 'pool:stopped', 'pool:undefined']);
    await conn.close();
  });

  it('keeps unknown XML, and refuses it when asked to validate', async () => {
    const conn = await open('test:///default');
    const xml = domainXml('validate-me').replace('</domain>', "<devices><frobnicator speed='11'/></devices></domain>");
    await expect(conn.defineDomainXml(xml, { validate: true })).rejects.toMatchObject({ code: 'XML_ERROR', message: expect.stringMatching(/frobnicator/) });
    await expect(conn.lookupDomainByName('validate-me')).rejects.toMatchObject({ code: 'NO_DOMAIN' });
    const d = await conn.defineDomainXml(xml);
    expect(await d.getXmlDesc()).toContain("<frobnicator speed='11'/>");
    await d.undefine();
    await conn.close();
  });

  it('refuses bad pool and volume names and keeps what is stored', async () => {
    const conn = await open('test:///default');
    await expect(conn.defineStoragePoolXml("<pool type='dir'><name>a/b</name><target><path>/x</path></target></pool>")).rejects.toBeInstanceOf(VirtError);
    const pool = await conn.lookupStoragePool('default-pool');
    await expect(pool.createVolumeXml("<volume><name>../etc</name><capacity>1</capacity></volume>")).rejects.toBeInstanceOf(VirtError);
    expect((await pool.listAllVolumes()).length).toBe(0);
    await conn.close();
  });
});

describe('test:///path fixtures', () => {
  it('loads libvirt\'s testnode.xml as libvirt lists it', async () => {
    const conn = await open(`test://${join(shared, 'libvirt-testdriver', 'testnode.xml')}`);
    const doms = await conn.listAllDomains();
    expect(doms.map((d) => [d.id, d.name, d.lastSummary.state])).toEqual([
      [1, 'fv0', 'running'],
      [2, 'fc4', 'running'],
      [3, 'fc5', 'running'],
    ]);
    expect((await conn.listAllNetworks()).map((n) => n.name).sort()).toEqual(['default', 'private']);
    expect(await conn.getNodeInfo()).toMatchObject({ model: 'i986', cpus: 50, mhz: 6000, nodes: 4, sockets: 4, cores: 4, threads: 2, memoryKiB: 8192000 });
    const fc4 = await conn.lookupDomainByName('fc4');
    expect(fc4.uuid).toBe('ef861801-45b9-11cb-88e3-afbfe5370493');
    // libvirt replaces <pool file='testpool.xml'> by the file's <pool>, so the <volume> under it is not loaded.
    const pool = await conn.lookupStoragePool('default-pool');
    expect(await pool.getInfo()).toMatchObject({ state: 'running', capacity: 107374182400 });
    expect(await pool.listAllVolumes()).toEqual([]);
    await conn.close();
  });

  it('honours the test namespace (runstate) of inline fixtures', async () => {
    const conn = await open(`test://${join(shared, 'libvirt-testdriver', 'testnodeinline.xml')}`);
    expect((await (await conn.lookupDomainByName('fc5')).getState()).state).toBe('paused');
    const vols = await (await conn.lookupStoragePool('default-pool')).listAllVolumes();
    expect(vols.map((v) => v.path)).toEqual(['/default-pool/default-vol']);
    await conn.close();
  });

  it('names a missing or malformed fixture', async () => {
    await expect(open('test:///nonexistent/node.xml')).rejects.toMatchObject({ code: 'NO_CONNECT' });
    await expect(open('test:///')).rejects.toMatchObject({ code: 'NO_CONNECT' });
  });
});
