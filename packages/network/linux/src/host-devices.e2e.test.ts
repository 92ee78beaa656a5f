/**
 * Host interfaces (core's local interface driver, through a Connection and
 * the CLI) and the guest device helpers (tap, veth), in a namespace made
 * here.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtError, parseInterfaceXml, type Connection } from '@virtkit/core';
import { createBridge, createTapDevice, createVethPair, deleteDevice, hostSideMac } from './index.js';
import { NetnsLab, canRunNetworkTests, leftovers, runPrefix, runnerIn } from './testing/index.js';

const cliBin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../apps/cli/dist/bin.js');

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cliBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

describe.skipIf(!canRunNetworkTests().ok)('host interfaces and guest devices (real kernel)', () => {
  const prefix = runPrefix('d');
  const lab = new NetnsLab(prefix);
  let hostNs = '';
  let root = '';
  let uri = '';
  let pluginPath = '';
  let conn: Connection;
  const br = `${prefix}br`;
  const eth = `${prefix}e0`;

  beforeAll(async () => {
    hostNs = lab.addNamespace('h');
    ({ conn, root, uri, pluginPath } = await lab.openConnection(hostNs, []));
    const h = runnerIn(hostNs);
    await createBridge(h, { name: br, stp: true, delaySeconds: 4, mac: '52:54:00:0d:00:01' });
    await h.run(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', br]);
    await h.run(['ip', 'link', 'set', 'dev', br, 'up']);
    // A veth standing for an Ethernet device, with an address.
    await h.run(['ip', 'link', 'add', 'name', eth, 'address', '52:54:00:0d:00:02', 'mtu', '1400', 'type', 'veth', 'peer', 'name', `${prefix}e1`]);
    await h.run(['ip', 'addr', 'add', '198.18.0.1/15', 'dev', eth]);
    await h.run(['ip', 'link', 'set', 'dev', eth, 'up']);
    await h.run(['ip', 'link', 'set', 'dev', `${prefix}e1`, 'master', br, 'up']);
  });

  afterAll(async () => {
    await conn?.close();
    await lab.cleanup();
    expect(leftovers(prefix, root)).toEqual([]);
  });

  it('lists devices as libvirt does: bridge ports and taps left out, active = operstate up', async () => {
    const tap = await createTapDevice(runnerIn(hostNs), { name: `${prefix}t0`, bridge: br, guestMac: '52:54:00:0d:00:99' });
    const all = await conn.listAllInterfaces();
    const names = all.map((i) => i.name);
    expect(names).toContain(br);
    expect(names).toContain(eth);
    expect(names).toContain('lo');
    expect(names).not.toContain(`${prefix}e1`); // a bridge port
    expect(names).not.toContain(tap);
    expect(all.find((i) => i.name === 'lo')!.isActive()).toBe(false); // operstate UNKNOWN, as libvirt's udev backend says
    expect(all.find((i) => i.name === eth)!.isActive()).toBe(true);
    expect((await conn.lookupInterface('52:54:00:0D:00:02')).name).toBe(eth);
    expect((await conn.lookupInterface(eth)).mac).toBe('52:54:00:0d:00:02');
    const err = await conn.lookupInterface(`${prefix}zz`).catch((e: unknown) => e);
    expect(VirtError.is(err, 'NO_INTERFACE')).toBe(true);
    await deleteDevice(runnerIn(hostNs), tap);
  });

  it('iface-dumpxml renders libvirt interface XML the model parses back', async () => {
    const ethXml = await (await conn.lookupInterface(eth)).getXmlDesc();
    expect(ethXml).toBe(
      `<interface type='ethernet' name='${eth}'>\n` +
        "  <mtu size='1400'/>\n" +
        "  <protocol family='ipv4'>\n    <ip address='198.18.0.1' prefix='15'/>\n  </protocol>\n" +
        "  <link speed='10000' state='up'/>\n" +
        "  <mac address='52:54:00:0d:00:02'/>\n" +
        '</interface>\n',
    );
    const brXml = await (await conn.lookupInterface(br)).getXmlDesc();
    const def = parseInterfaceXml(brXml);
    expect(def).toMatchObject({ type: 'bridge', name: br, bridge: { stp: true, delay: '400' } });
    expect(def.bridge!.interfaces.map((i) => i.name)).toEqual([`${prefix}e1`]);
    expect(def.protocols[0]).toMatchObject({ family: 'ipv4', ips: [{ address: '192.0.2.1', prefix: 24 }] });
  });

  it('the CLI prints iface-list, iface-mac and iface-name', async () => {
    if (!existsSync(cliBin)) return;
    const env = { VIRTKIT_PLUGIN_PATH: pluginPath };
    const list = await cli(['-c', uri, 'iface-list', '--all'], env);
    expect(list.stderr).toBe('');
    expect(list.stdout).toMatch(new RegExp(`^ ${eth}\\s+active\\s+52:54:00:0d:00:02$`, 'm'));
    expect(list.stdout).toMatch(/^ lo\s+inactive\s+00:00:00:00:00:00$/m);
    expect((await cli(['-c', uri, 'iface-mac', eth], env)).stdout.trim()).toBe('52:54:00:0d:00:02');
    expect((await cli(['-c', uri, 'iface-name', '52:54:00:0d:00:02'], env)).stdout.trim()).toBe(eth);
  });

  it('creates a tap and a veth pair on a bridge with libvirt\'s host-side MAC', async () => {
    const h = runnerIn(hostNs);
    const tap = await createTapDevice(h, { bridge: br, guestMac: '52:54:00:0d:00:10', mtu: 1400 });
    expect(tap).toMatch(/^vnet\d+$/);
    const t = (await h.ipJson<{ master?: string; address?: string; mtu?: number }>(['link', 'show', 'dev', tap]))[0]!;
    expect(t).toMatchObject({ master: br, address: hostSideMac('52:54:00:0d:00:10'), mtu: 1400 });
    const guestNs = lab.addNamespace('g');
    const pair = await createVethPair(h, { name: `${prefix}v0`, bridge: br, guestMac: '52:54:00:0d:00:11', peerNetns: guestNs, peerNameInNetns: 'eth0' });
    expect(pair.host).toBe(`${prefix}v0`);
    const v = (await h.ipJson<{ master?: string; address?: string }>(['link', 'show', 'dev', pair.host]))[0]!;
    expect(v).toMatchObject({ master: br, address: 'fe:54:00:0d:00:11' });
    const g = (await runnerIn(guestNs).ipJson<{ address?: string }>(['link', 'show', 'dev', 'eth0']))[0]!;
    expect(g.address).toBe('52:54:00:0d:00:11');
    await deleteDevice(h, tap);
    await deleteDevice(h, pair.host);
    expect((await runnerIn(guestNs).run(['ip', 'link', 'show', 'dev', 'eth0'], { allowFailure: true })).code).not.toBe(0);
  });
});
