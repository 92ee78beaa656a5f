/**
 * The local network driver with a fake mode (nothing touches the host):
 * definitions, state, events, rollback, crash recovery, autostart, ports,
 * updates. The real modes are tested against the kernel in
 * packages/network/*.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PluginResolver } from '../driver.js';
import { VirtError } from '../errors.js';
import { EventBus, type VirtEvent } from '../events.js';
import { LocalNetworkDriver } from './driver.js';
import type { NetworkMode } from './mode.js';

interface Fake {
  log: string[];
  failAt?: string;
  failUpdate?: boolean;
  mode: NetworkMode;
}

function fakeMode(): Fake {
  const f: Fake = {
    log: [],
    mode: {
      modes: ['nat', 'route', 'open', 'none'],
      async start(ctx) {
        for (const k of ['bridge', 'table', 'daemon']) {
          if (f.failAt === k) throw new VirtError('SYSTEM_ERROR', `${ctx.def.name}: cannot ${k}`);
          f.log.push(`do ${k} ${ctx.def.name}`);
          await ctx.record({ kind: k, network: ctx.def.name });
        }
      },
      async undo(step) {
        f.log.push(`undo ${step.kind} ${String(step.network)}`);
      },
      async update(ctx, change) {
        f.log.push(`update ${change.section} ${ctx.def.name}`);
        if (f.failUpdate) throw new VirtError('SYSTEM_ERROR', 'update failed');
      },
      async health() {
        return { present: true, problems: [] };
      },
      async dhcpLeases(ctx) {
        return [
          { expiryTime: 0, mac: '52:54:00:00:00:01', ipaddr: '203.0.113.10', prefix: 24, type: 'ipv4' as const, iface: ctx.def.bridge?.name ?? '' },
          { expiryTime: 1, mac: '52:54:00:00:00:02', ipaddr: '203.0.113.11', prefix: 24, type: 'ipv4' as const, iface: '' },
        ];
      },
    },
  };
  return f;
}

const tag = `vku${process.pid.toString(36).slice(-3)}`;
const xml = (name: string, br: string, addr = '203.0.113.1', extra = '') =>
  `<network><name>${name}</name><forward mode='nat'/><bridge name='${br}'/><ip address='${addr}' prefix='24'/>${extra}</network>`;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return VirtError.is(e) ? e.code : `not a VirtError: ${String(e)}`;
  }
  return 'no error';
}

describe('LocalNetworkDriver (fake mode)', () => {
  let root: string;
  let fake: Fake;
  let events: VirtEvent[];
  const open = () => {
    const bus = new EventBus();
    bus.on('*', (e) => events.push(e));
    const plugins: PluginResolver = { storageBackend: async () => undefined, networkMode: async () => fake.mode, list: () => [] };
    return new LocalNetworkDriver({
      dirs: { scope: 'embed', config: join(root, 'etc'), data: join(root, 'lib'), runtime: join(root, 'run') },
      events: bus,
      plugins,
      settings: { autostart: true },
    });
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vk-netdrv-'));
    fake = fakeMode();
    events = [];
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('defines, starts, stops and undefines, with events and files', async () => {
    const d = open();
    const s = await d.defineNetwork(xml('n1', `${tag}a`));
    expect(s).toMatchObject({ name: 'n1', active: false, persistent: true, autostart: false, bridge: `${tag}a` });
    const saved = await readFile(join(root, 'etc', 'network', 'n1.xml'), 'utf8');
    expect(saved).toMatch(/^<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE/);
    expect(saved).toMatch(/<mac address='52:54:00:/);
    await d.startNetwork(s.uuid);
    expect(await code(d.startNetwork(s.uuid))).toBe('OPERATION_INVALID');
    expect((await d.lookupNetwork({ name: 'n1' })).active).toBe(true);
    const state = JSON.parse(await readFile(join(root, 'run', 'network', 'n1.json'), 'utf8'));
    expect(state).toMatchObject({ phase: 'active', mode: 'nat', steps: [{ kind: 'bridge' }, { kind: 'table' }, { kind: 'daemon' }] });
    await d.destroyNetwork(s.uuid);
    expect(fake.log).toEqual(['do bridge n1', 'do table n1', 'do daemon n1', 'undo daemon n1', 'undo table n1', 'undo bridge n1']);
    expect(existsSync(join(root, 'run', 'network', 'n1.json'))).toBe(false);
    expect(await code(d.destroyNetwork(s.uuid))).toBe('OPERATION_INVALID');
    await d.undefineNetwork(s.uuid);
    expect(await code(d.lookupNetwork({ name: 'n1' }))).toBe('NO_NETWORK');
    expect(events.map((e) => e.kind === 'network' && e.type)).toEqual(['defined', 'started', 'stopped', 'undefined']);
  });

  it('gives L3 networks a free bridge name and keeps it on redefinition', async () => {
    const d = open();
    const a = await d.defineNetwork(`<network><name>a</name><bridge name='${tag}%d'/></network>`);
    const b = await d.defineNetwork(`<network><name>b</name><bridge name='${tag}%d'/></network>`);
    expect([a.bridge, b.bridge]).toEqual([`${tag}0`, `${tag}1`]);
    const again = await d.defineNetwork(`<network><name>a</name><uuid>${a.uuid}</uuid><bridge name='${tag}%d'/></network>`);
    expect(again.bridge).toBe(`${tag}0`);
    expect(await code(d.defineNetwork(`<network><name>a</name><bridge name='x1'/></network>`))).toBe('NETWORK_EXIST');
    expect(await code(d.defineNetwork(`<network><name>c</name><uuid>${a.uuid}</uuid></network>`))).toBe('NETWORK_EXIST');
    expect(await code(d.defineNetwork(`<network><name>c</name><bridge name='${tag}1'/></network>`))).toBe('RESOURCE_BUSY');
  });

  it('undoes what a failed start did, and keeps nothing', async () => {
    const d = open();
    fake.failAt = 'daemon';
    const err = await d.createNetwork(xml('bad', `${tag}b`)).catch((e: unknown) => e);
    expect(VirtError.is(err, 'SYSTEM_ERROR')).toBe(true);
    expect(fake.log).toEqual(['do bridge bad', 'do table bad', 'undo table bad', 'undo bridge bad']);
    expect(await d.listNetworks()).toEqual([]);
    expect(events).toEqual([]);
  });

  it('refuses overlapping subnets of active networks', async () => {
    const d = open();
    await d.createNetwork(xml('one', `${tag}c`, '203.0.113.1'));
    expect(await code(d.createNetwork(xml('two', `${tag}d`, '203.0.113.200')))).toBe('RESOURCE_BUSY');
    // Defined (not active) networks may share a subnet.
    await d.defineNetwork(xml('three', `${tag}e`, '203.0.113.3'));
    expect(fake.log.filter((l) => l.startsWith('do'))).toHaveLength(3);
  });

  it('transient networks vanish when stopped; undefining an active one makes it transient', async () => {
    const d = open();
    const t = await d.createNetwork(xml('t', `${tag}f`));
    expect(t).toMatchObject({ active: true, persistent: false });
    expect(await code(d.undefineNetwork(t.uuid))).toBe('OPERATION_INVALID');
    expect(await code(d.setNetworkAutostart(t.uuid, true))).toBe('OPERATION_INVALID');
    await d.destroyNetwork(t.uuid);
    expect(await d.listNetworks()).toEqual([]);
    const p = await d.defineNetwork(xml('p', `${tag}g`));
    await d.startNetwork(p.uuid);
    await d.undefineNetwork(p.uuid);
    expect(await d.lookupNetwork({ name: 'p' })).toMatchObject({ active: true, persistent: false });
    await d.destroyNetwork(p.uuid);
    expect(await d.listNetworks()).toEqual([]);
  });

  it('live XML vs inactive XML', async () => {
    const d = open();
    const s = await d.defineNetwork(xml('x', `${tag}h`));
    await d.startNetwork(s.uuid);
    await d.defineNetwork(xml('x', `${tag}h`, '203.0.113.1', '<mtu size="1400"/>').replace('<name>x</name>', `<name>x</name><uuid>${s.uuid}</uuid>`));
    expect(await d.getNetworkXml(s.uuid)).not.toContain('mtu');
    expect(await d.getNetworkXml(s.uuid, { inactive: true })).toContain("<mtu size='1400'/>");
    await d.destroyNetwork(s.uuid);
  });

  it('rolls back an interrupted start and restarts nothing else (crash recovery)', async () => {
    const d = open();
    await d.createNetwork(xml('ok', `${tag}i`));
    fake.log.length = 0;
    // A state left by a process that died in the middle of starting.
    const dead = 2 ** 22 + 4321;
    await writeFile(
      join(root, 'run', 'network', 'crashed.json'),
      JSON.stringify({ version: 1, name: 'crashed', uuid: '0b6d2c1e-8d55-4a61-9a0f-9e5d3c2b1a00', phase: 'starting', owner: dead, mode: 'nat',
        xml: `<network><name>crashed</name><uuid>0b6d2c1e-8d55-4a61-9a0f-9e5d3c2b1a00</uuid><forward mode='nat'/><bridge name='${tag}j'/></network>`,
        steps: [{ kind: 'bridge', network: 'crashed' }, { kind: 'table', network: 'crashed' }], data: {}, ports: [], startedAt: 1 }),
    );
    const d2 = open();
    expect((await d2.listNetworks()).map((n) => n.name)).toEqual(['ok']);
    expect(fake.log).toEqual(['undo table crashed', 'undo bridge crashed']);
  });

  it('autostarts once per runtime directory', async () => {
    const d = open();
    const s = await d.defineNetwork(xml('auto', `${tag}k`));
    await d.setNetworkAutostart(s.uuid, true);
    expect((await d.lookupNetwork({ uuid: s.uuid })).autostart).toBe(true);
    expect(await d.lookupNetwork({ uuid: s.uuid })).toMatchObject({ active: false });
    await rm(join(root, 'run', 'network', 'autostarted'));
    const d2 = open();
    expect(await d2.lookupNetwork({ uuid: s.uuid })).toMatchObject({ active: true });
    await d2.destroyNetwork(s.uuid);
    expect(await open().lookupNetwork({ uuid: s.uuid })).toMatchObject({ active: false });
    await d2.setNetworkAutostart(s.uuid, false);
    expect(existsSync(join(root, 'etc', 'network', 'autostart', 'auto.xml'))).toBe(false);
  });

  it('ports: only on active networks; a held port blocks destroy; a dead holder does not', async () => {
    const d = open();
    const s = await d.defineNetwork(xml('pn', `${tag}l`, '203.0.113.1', "<portgroup name='slow' default='yes'><bandwidth><inbound average='1000'/></bandwidth></portgroup>"));
    const req = { network: 'pn', owner: { name: 'vm', uuid: '6b4f5e9a-2c1d-4e3f-8a7b-9c0d1e2f3a4b' }, mac: '52:54:00:00:00:aa' };
    expect(await code(d.allocatePort(req))).toBe('OPERATION_INVALID');
    await d.startNetwork(s.uuid);
    expect(await code(d.allocatePort({ ...req, mac: 'zz' }))).toBe('INVALID_MAC');
    expect(await code(d.allocatePort({ ...req, portgroup: 'nope' }))).toBe('INVALID_ARG');
    const port = await d.allocatePort(req);
    expect(port).toMatchObject({ type: 'bridge', bridge: `${tag}l`, portgroup: 'slow', bandwidth: { inbound: { average: 1000 } } });
    expect(await d.getNetworkXml(s.uuid)).toContain("connections='1'");
    expect(await code(d.destroyNetwork(s.uuid))).toBe('RESOURCE_BUSY');
    expect(await code(d.undefineNetwork(s.uuid))).toBe('RESOURCE_BUSY');
    await d.releasePort(port.uuid);
    await d.allocatePort({ ...req, pid: 2 ** 22 + 999 }); // its process is gone
    expect(await d.listPorts('pn')).toEqual([]);
    await d.destroyNetwork(s.uuid);
  });

  it('net-update: --config on the definition, live through the mode, rolled back when the mode fails', async () => {
    const d = open();
    const s = await d.defineNetwork(xml('u', `${tag}m`));
    await d.updateNetwork(s.uuid, 'add-last', 'dns-host', "<host ip='203.0.113.9'><hostname>h</hostname></host>");
    expect(await d.getNetworkXml(s.uuid)).toContain("<host ip='203.0.113.9'>");
    expect(await code(d.updateNetwork(s.uuid, 'add-last', 'dns-txt', "<txt name='a' value='b'/>", { live: true }))).toBe('OPERATION_INVALID');
    await d.startNetwork(s.uuid);
    await d.updateNetwork(s.uuid, 'add-last', 'dns-txt', "<txt name='a' value='b'/>");
    expect(fake.log).toContain('update dns-txt u');
    expect(await d.getNetworkXml(s.uuid)).toContain("<txt name='a' value='b'/>");
    expect(await d.getNetworkXml(s.uuid, { inactive: true })).not.toContain('<txt');
    fake.failUpdate = true;
    expect(await code(d.updateNetwork(s.uuid, 'add-last', 'dns-txt', "<txt name='c' value='d'/>", { live: true, config: true }))).toBe('SYSTEM_ERROR');
    expect(await d.getNetworkXml(s.uuid)).not.toContain("name='c'");
    expect(await d.getNetworkXml(s.uuid, { inactive: true })).not.toContain("name='c'");
    fake.failUpdate = false;
    await d.destroyNetwork(s.uuid);
  });

  it('DHCP leases: expired ones left out, MAC filter, bad MAC refused', async () => {
    const d = open();
    const s = await d.createNetwork(xml('l', `${tag}n`));
    expect((await d.getDhcpLeases(s.uuid)).map((l) => l.mac)).toEqual(['52:54:00:00:00:01']);
    expect(await d.getDhcpLeases(s.uuid, '52:54:00:00:00:02')).toEqual([]);
    expect(await code(d.getDhcpLeases(s.uuid, 'nope'))).toBe('INVALID_MAC');
    await d.destroyNetwork(s.uuid);
  });

  it('says which package to install for a missing mode', async () => {
    const d = new LocalNetworkDriver({
      dirs: { scope: 'embed', config: join(root, 'etc'), data: join(root, 'lib'), runtime: join(root, 'run') },
      events: new EventBus(),
      plugins: { storageBackend: async () => undefined, networkMode: async () => undefined, list: () => [] },
      settings: { autostart: false },
    });
    const err = await d.createNetwork(xml('m', `${tag}o`)).catch((e: unknown) => e);
    expect(VirtError.is(err, 'NO_SUPPORT') && err.message).toMatch(/@virtkit\/network-nat/);
  });
});
