/**
 * Containers on networks, for real: a virtkit network (isolated mode,
 * dnsmasq DHCP) running in a namespace of its own standing for the host,
 * the container leasing an address from it; and a plain Linux bridge made
 * by the test with a static address. Nothing is left behind.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, PluginLoader, type NetworkHandle } from '@virtkit/core';
import { NetnsLab, canRunNetworkTests, leftovers, runPrefix } from '@virtkit/network-linux/testing';
import { buildBusyboxRootfs, canRunLxcTests, containerXml, embedLxcpath, lxcLeftovers, removeRootfs, runInContainer } from './testing/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const isolatedDir = dirname(createRequire(join(pkgDir, 'package.json')).resolve('@virtkit/network-isolated/package.json'));
const can = canRunLxcTests();
const canNet = canRunNetworkTests();

function sh(argv: string[]): { code: number; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe.skipIf(!can.ok || !canNet.ok)('LXC containers on networks (real kernel)', () => {
  const prefix = runPrefix('l');
  const lab = new NetnsLab(prefix);
  let hostNs = '';
  let root = '';
  let rootfs = '';
  let conn: Connection;
  let net: NetworkHandle;
  const uuids: string[] = [];
  const octet = 100 + Math.floor(Math.random() * 100);
  const hostBridge = `${prefix}hb`;

  beforeAll(async () => {
    hostNs = lab.addNamespace('h');
    root = await lab.makeRoot(hostNs);
    rootfs = await buildBusyboxRootfs(await mkdtemp(join(tmpdir(), 'vkl-netfs-')));
    conn = await Connection.open(`lxc:///embed?root=${root}`, { loader: new PluginLoader({ roots: [], pluginPath: [pkgDir, isolatedDir].join(':') }) });
  });

  afterAll(async () => {
    try {
      if (conn) {
        for (const d of await conn.listAllDomains()) {
          if (d.id >= 0) await d.destroy().catch(() => {});
          await d.undefine().catch(() => {});
        }
        for (const n of await conn.listAllNetworks()) await n.destroy().catch(() => {});
        await conn.close();
      }
      expect(await lxcLeftovers(root, uuids)).toEqual([]);
    } finally {
      sh(['ip', 'link', 'del', 'dev', hostBridge]);
      await lab.cleanup();
      if (rootfs) await removeRootfs(rootfs);
      if (root) await rm(root, { recursive: true, force: true });
    }
    expect(leftovers(prefix, root)).toEqual([]);
  });

  it('leases an address on a virtkit network and reaches its gateway', async () => {
    net = await conn.createNetworkXml(`<network>
  <name>${prefix}-net</name>
  <bridge name='${prefix}br' stp='off'/>
  <ip address='10.249.${octet}.1' prefix='24'><dhcp><range start='10.249.${octet}.10' end='10.249.${octet}.20'/></dhcp></ip>
</network>`);
    const mac = '52:54:00:4c:00:01';
    const d = await conn.defineDomainXml(
      containerXml(`${prefix}-web`, rootfs, { devices: `    <interface type='network'><mac address='${mac}'/><source network='${prefix}-net'/></interface>\n` }),
    );
    uuids.push(d.uuid);
    await d.start();
    const lxcName = `${prefix}-web`;
    const dhcp = runInContainer(embedLxcpath(root), lxcName, ['udhcpc', '-i', 'eth0', '-n', '-q', '-t', '15', '-T', '1']);
    expect(dhcp.code, dhcp.stdout + dhcp.stderr).toBe(0);
    const addr = runInContainer(embedLxcpath(root), lxcName, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']).stdout;
    const ip = new RegExp(`inet (10\\.249\\.${octet}\\.[0-9]+)/24`).exec(addr)?.[1];
    expect(ip, addr).toBeTruthy();
    expect(runInContainer(embedLxcpath(root), lxcName, ['ping', '-c', '1', '-W', '3', `10.249.${octet}.1`]).code).toBe(0);
    expect((await net.getDhcpLeases(mac)).map((l) => l.ipaddr)).toContain(ip);
    // The host end sits on the network's bridge, in the network's namespace.
    const tag = `vk${d.uuid.replace(/-/g, '').slice(0, 8)}n0`;
    expect(sh(['ip', '-n', hostNs, '-o', 'link', 'show', 'master', `${prefix}br`]).out).toContain(tag);
    expect(await d.getXmlDesc()).toContain(`<target dev='${tag}'/>`);
    // virsh domifaddr's answer (source 'lease'), from the network's leases.
    expect(await d.getInterfaceAddresses()).toEqual([{ name: tag, hwaddr: mac, addrs: [{ type: 'ipv4', addr: ip, prefix: 24 }] }]);
    await expect(d.getInterfaceAddresses({ source: 'agent' })).rejects.toMatchObject({ code: 'ARGUMENT_UNSUPPORTED' });
    // The network is in use while the container runs.
    await expect(net.destroy()).rejects.toMatchObject({ code: 'RESOURCE_BUSY' });
    await d.destroy();
    expect(sh(['ip', '-n', hostNs, '-o', 'link', 'show', 'dev', tag]).code).not.toBe(0);
    await net.destroy();
  });

  it('joins a Linux bridge with a static address and a default route', async () => {
    const made = sh(['ip', 'link', 'add', 'name', hostBridge, 'type', 'bridge']);
    expect(made.code, made.out).toBe(0);
    sh(['ip', 'addr', 'add', `10.254.${octet}.1/24`, 'dev', hostBridge]);
    sh(['ip', 'link', 'set', 'dev', hostBridge, 'up']);
    const d = await conn.defineDomainXml(
      containerXml(`${prefix}-db`, rootfs, {
        devices: `    <interface type='bridge'><mac address='52:54:00:4c:00:02'/><source bridge='${hostBridge}'/>
      <ip address='10.254.${octet}.2' prefix='24'/><route family='ipv4' address='0.0.0.0' gateway='10.254.${octet}.1'/><guest dev='lan0'/></interface>\n`,
      }),
    );
    uuids.push(d.uuid);
    await d.start();
    const inside = (argv: string[]) => runInContainer(embedLxcpath(root), `${prefix}-db`, argv);
    expect(inside(['ip', '-4', '-o', 'addr', 'show', 'dev', 'lan0']).stdout).toContain(`10.254.${octet}.2/24`);
    expect(inside(['ip', 'route']).stdout).toContain(`default via 10.254.${octet}.1`);
    expect(inside(['ping', '-c', '1', '-W', '3', `10.254.${octet}.1`]).code).toBe(0);
    expect(inside(['ip', '-4', '-o', 'addr', 'show', 'dev', 'lan0']).stdout).toContain(`brd 10.254.${octet}.255`);
    expect(sh(['busybox', 'ping', '-c', '1', '-W', '3', `10.254.${octet}.2`]).code).toBe(0);
    const stats = await d.getStats(['net']);
    expect(stats['net.count']).toBe(1);
    expect(Number(stats['net.0.tx.pkts'])).toBeGreaterThan(0);
    await d.destroy();
    expect(sh(['ip', '-o', 'link', 'show', 'master', hostBridge]).out.trim()).toBe('');
  });
});
