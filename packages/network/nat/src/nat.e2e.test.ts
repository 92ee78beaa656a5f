/**
 * A NAT network on the real kernel, dnsmasq and nftables, inside network
 * namespaces made here: one stands for the host (network.conf's netns),
 * clients join the bridge by veth, another namespace is the outside world.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, PluginLoader, VirtError, openLocalNetworkDriver, type NetworkHandle, type VirtEvent } from '@virtkit/core';
import { createTapDevice, deleteDevice, firewallTableFor, listFirewallTables } from '@virtkit/network-linux';
import {
  NetnsLab,
  canRunNetworkTests,
  leftovers,
  runPrefix,
  runnerIn,
  writeStubHypervisorPlugin,
} from '@virtkit/network-linux/testing';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = resolve(here, '..');
const cliBin = resolve(pkgDir, '../../../apps/cli/dist/bin.js');
const can = canRunNetworkTests();

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return VirtError.is(e) ? e.code : `not a VirtError: ${String(e)}`;
  }
  return 'no error';
}

describe.skipIf(!can.ok)('NAT network (real kernel, dnsmasq, nftables)', () => {
  const prefix = runPrefix('n');
  const lab = new NetnsLab(prefix);
  const bridge = `${prefix}br`;
  const name = `${prefix}-nat`;
  const events: VirtEvent[] = [];
  let hostNs = '';
  let root = '';
  let fixtures = '';
  let pluginPath = '';
  let conn: Connection;
  let net: NetworkHandle;

  const natXml = () => `<network>
  <name>${name}</name>
  <forward mode='nat'><nat><port start='20000' end='20099'/></nat></forward>
  <bridge name='${bridge}' stp='off' delay='0'/>
  <domain name='lab.test' localOnly='yes'/>
  <dns>
    <txt name='info' value='hello'/>
    <host ip='10.251.0.50'><hostname>web</hostname></host>
    <srv service='http' protocol='tcp' domain='lab.test' target='web.lab.test' port='80' priority='10' weight='5'/>
  </dns>
  <ip address='10.251.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.251.0.100' end='10.251.0.150'/>
      <host mac='52:54:00:aa:00:02' name='fixed' ip='10.251.0.20'/>
    </dhcp>
  </ip>
</network>`;

  const host = () => runnerIn(hostNs);
  const linkExists = async (dev: string) => (await host().run(['ip', 'link', 'show', 'dev', dev], { allowFailure: true })).code === 0;

  beforeAll(async () => {
    hostNs = lab.addNamespace('h');
    root = await lab.makeRoot(hostNs);
    fixtures = await mkdtemp(join(tmpdir(), `${prefix}-fx-`));
    const plugin = await writeStubHypervisorPlugin(fixtures, 'vknet');
    pluginPath = [plugin, pkgDir].join(':');
    conn = await Connection.open(`vknet:///embed?root=${root}`, { loader: new PluginLoader({ roots: [], pluginPath }) });
    conn.on('network', (e) => events.push(e));
    lab.addOutside(hostNs, 'o', '198.51.100.1', '198.51.100.2', 24);
    await lab.startWhoAmI(`${prefix}o`, 7000, true);
  });

  afterAll(async () => {
    await conn?.close();
    await lab.cleanup();
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
    expect(leftovers(prefix, root)).toEqual([]);
  });

  it('defines and starts: bridge, nftables table and dnsmasq appear', async () => {
    net = await conn.defineNetworkXml(natXml());
    expect(net.lastSummary).toMatchObject({ name, active: false, persistent: true, bridge });
    await net.start();
    expect(await net.isActive()).toBe(true);
    expect(await linkExists(bridge)).toBe(true);
    const tables = await listFirewallTables(host());
    expect(tables).toContainEqual({ family: 'inet', name: firewallTableFor(bridge).name });
    const pid = Number((await readFile(join(root, 'run', 'network', `${name}.pid`), 'utf8')).trim());
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    // dnsmasq dropped its privileges (the root is open to others).
    expect(spawnSync('ps', ['-o', 'user=', '-p', String(pid)]).stdout.toString().trim()).not.toBe('root');
    const live = await net.getXmlDesc();
    expect(live).toContain(`<bridge name='${bridge}' stp='off' delay='0'/>`);
    expect(live).toMatch(/<mac address='52:54:00:[0-9a-f:]{8}'\/>/);
    // IPv4 only: IPv6 is off on the bridge, as libvirt sets it.
    expect(await host().getSysctl(`net/ipv6/conf/${bridge}/disable_ipv6`)).toBe('1');
    expect(events.map((e) => e.kind === 'network' && e.type)).toEqual(['defined', 'started']);
  });

  it('hands a DHCP lease to a client; the outside sees it only through the masquerade', async () => {
    const { ns } = lab.addClient(hostNs, bridge, 'c1', '52:54:00:aa:00:01');
    const ip = await lab.dhcp(ns, 'eth0', 'client1');
    expect(ip).toMatch(/^10\.251\.0\.(1[0-4][0-9]|150)$/);
    lab.configureLease(ns, ip, 24, '10.251.0.1');
    // The far side sees the host's outside address, not the client's, and a source port of <nat><port>.
    const [addr, port] = (await lab.whoAmI(ns, '198.51.100.2', 7000)).split(' ');
    expect(addr).toBe('198.51.100.1');
    expect(Number(port)).toBeGreaterThanOrEqual(20000);
    expect(Number(port)).toBeLessThanOrEqual(20099);
    const r = await host().run(['nft', 'list', 'table', 'inet', firewallTableFor(bridge).name]);
    expect(r.stdout).toMatch(/meta l4proto tcp .* counter packets [1-9]\d* bytes \d+ masquerade to :20000-20099/);
  });

  it('static DHCP host gets its address; net-dhcp-leases lists both leases', async () => {
    const { ns } = lab.addClient(hostNs, bridge, 'c2', '52:54:00:aa:00:02');
    expect(await lab.dhcp(ns)).toBe('10.251.0.20');
    const leases = await net.getDhcpLeases();
    const byMac = new Map(leases.map((l) => [l.mac, l]));
    expect(byMac.get('52:54:00:aa:00:01')).toMatchObject({ type: 'ipv4', prefix: 24, iface: bridge, hostname: 'client1' });
    expect(byMac.get('52:54:00:aa:00:02')).toMatchObject({ ipaddr: '10.251.0.20', prefix: 24 });
    expect(await net.getDhcpLeases('52:54:00:AA:00:02')).toHaveLength(1);
    expect(await code(net.getDhcpLeases('not-a-mac'))).toBe('INVALID_MAC');
  });

  it('virtkit net-dhcp-leases prints the leases like virsh', async () => {
    if (!existsSync(cliBin)) return;
    // The CLI finds the stub hypervisor and the nat mode through VIRTKIT_PLUGIN_PATH.
    const r = await runAsyncEnv(process.execPath, [cliBin, '-c', `vknet:///embed?root=${root}`, 'net-dhcp-leases', name], { VIRTKIT_PLUGIN_PATH: pluginPath });
    expect(r.stderr).toBe('');
    checkLeaseTable(r.stdout);
  });

  it('dnsmasq answers the network\'s DNS records (host, TXT, SRV)', async () => {
    const ns = `${prefix}c1`;
    expect(await lab.dnsQuery(ns, '10.251.0.1', 'web.lab.test')).toEqual(['10.251.0.50']);
    expect(await lab.dnsQuery(ns, '10.251.0.1', 'info', 'TXT')).toEqual(['hello']);
    expect(await lab.dnsQuery(ns, '10.251.0.1', '_http._tcp.lab.test', 'SRV')).toEqual(['10 5 80 web.lab.test']);
  });

  it('net-update changes DNS hosts and DHCP hosts live (SIGHUP) and TXT records (restart)', async () => {
    const ns = `${prefix}c1`;
    const pidFile = join(root, 'run', 'network', `${name}.pid`);
    const pidBefore = (await readFile(pidFile, 'utf8')).trim();
    await net.update('add-last', 'dns-host', "<host ip='10.251.0.51'><hostname>db</hostname></host>", { live: true, config: true });
    expect(await lab.dnsQuery(ns, '10.251.0.1', 'db.lab.test')).toEqual(['10.251.0.51']);
    expect((await readFile(pidFile, 'utf8')).trim()).toBe(pidBefore);
    await net.update('add-last', 'ip-dhcp-host', "<host mac='52:54:00:aa:00:03' ip='10.251.0.30'/>", { live: true });
    const { ns: c3 } = lab.addClient(hostNs, bridge, 'c3', '52:54:00:aa:00:03');
    expect(await lab.dhcp(c3)).toBe('10.251.0.30');
    await net.update('delete', 'dns-host', "<host ip='10.251.0.51'/>", { live: true });
    expect(await lab.dnsQuery(ns, '10.251.0.1', 'db.lab.test')).toEqual([]);
    await net.update('add-last', 'dns-txt', "<txt name='motd' value='hi there'/>");
    expect(await lab.dnsQuery(ns, '10.251.0.1', 'motd', 'TXT')).toEqual(['hi there']);
    // --config went to the definition only where asked.
    const inactive = await net.getXmlDesc({ inactive: true });
    expect(inactive).toContain("<host ip='10.251.0.51'>");
    expect(inactive).not.toContain('52:54:00:aa:00:03');
    expect(await code(net.update('modify', 'dns-txt', "<txt name='motd' value='x'/>"))).toBe('NO_SUPPORT');
    expect(await code(net.update('add-last', 'bridge', "<bridge name='x'/>"))).toBe('NO_SUPPORT');
    expect(await code(net.update('delete', 'ip-dhcp-host', "<host mac='52:54:00:ff:ff:ff'/>"))).toBe('OPERATION_INVALID');
  });

  it('the outside cannot open connections to the guests', async () => {
    await lab.startWhoAmI(`${prefix}c1`, 7001);
    await runnerIn(`${prefix}o`).run(['ip', 'route', 'add', '10.251.0.0/24', 'via', '198.51.100.1']);
    const ip = (await net.getDhcpLeases('52:54:00:aa:00:01'))[0]!.ipaddr;
    await expect(lab.whoAmI(`${prefix}o`, ip, 7001, 1500)).rejects.toThrow();
  });

  it('refuses a second network with an overlapping subnet, a taken bridge or a routed subnet, leaving nothing', async () => {
    const other = (n: string, br: string, addr: string) =>
      `<network><name>${n}</name><forward mode='nat'/><bridge name='${br}' stp='off'/><ip address='${addr}' prefix='24'/></network>`;
    expect(await code(conn.createNetworkXml(other(`${prefix}-o1`, `${prefix}b1`, '10.251.0.129')))).toBe('RESOURCE_BUSY');
    expect(await linkExists(`${prefix}b1`)).toBe(false);
    await host().run(['ip', 'link', 'add', 'name', `${prefix}b2`, 'type', 'bridge']);
    expect(await code(conn.createNetworkXml(other(`${prefix}-o2`, `${prefix}b2`, '10.252.0.1')))).toBe('RESOURCE_BUSY');
    await deleteDevice(host(), `${prefix}b2`);
    await host().run(['ip', 'route', 'add', '10.253.0.0/25', 'dev', `${prefix}oh`]);
    expect(await code(conn.createNetworkXml(other(`${prefix}-o3`, `${prefix}b3`, '10.253.0.1')))).toBe('RESOURCE_BUSY');
    expect(await code(conn.defineNetworkXml(other(`${prefix}-o4`, bridge, '10.254.0.1')))).toBe('RESOURCE_BUSY');
    expect(
      await code(
        conn.defineNetworkXml(
          `<network><name>${prefix}-o5</name><ip address='10.254.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:09' ip='10.9.9.9'/></dhcp></ip></network>`,
        ),
      ),
    ).toBe('CONFIG_UNSUPPORTED');
    const names = (await conn.listAllNetworks({ active: true, inactive: true })).map((n) => n.name);
    expect(names).toEqual([name]);
    const tables = (await listFirewallTables(host())).map((t) => t.name);
    expect(tables).toEqual([firewallTableFor(bridge).name]);
  });

  it('rolls back a start that fails half way (dnsmasq refuses its options)', async () => {
    const bad = `<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>
  <name>${prefix}-bad</name><forward mode='nat'/><bridge name='${prefix}b4' stp='off'/>
  <ip address='10.250.0.1' prefix='24'><dhcp><range start='10.250.0.10' end='10.250.0.20'/></dhcp></ip>
  <dnsmasq:options><dnsmasq:option value='no-such-dnsmasq-option=1'/></dnsmasq:options>
</network>`;
    const err = await conn.createNetworkXml(bad).catch((e: unknown) => e);
    expect(VirtError.is(err, 'SYSTEM_ERROR')).toBe(true);
    expect(await linkExists(`${prefix}b4`)).toBe(false);
    expect((await listFirewallTables(host())).map((t) => t.name)).not.toContain(firewallTableFor(`${prefix}b4`).name);
    expect(existsSync(join(root, 'run', 'network', `${prefix}-bad.json`))).toBe(false);
    expect(existsSync(join(root, 'run', 'network', 'dnsmasq', `${prefix}-bad.conf`))).toBe(false);
  });

  it('a QEMU guest\'s tap sits on the bridge; the network cannot be destroyed while the port is held', async () => {
    const drv = await openLocalNetworkDriver(conn.uri, { events: conn.events, plugins: new PluginLoader({ roots: [], pluginPath }) });
    const port = await drv.allocatePort({ network: name, owner: { name: 'guest1', uuid: '8f1c6d5e-2a3b-4c5d-8e9f-0a1b2c3d4e5f' }, mac: '52:54:00:bb:00:01' });
    expect(port).toMatchObject({ type: 'bridge', bridge, network: name });
    const tap = await createTapDevice(host(), { name: `${prefix}t0`, bridge: port.bridge, guestMac: port.mac, ...(port.mtu ? { mtu: port.mtu } : {}) });
    let qemu: ReturnType<typeof spawn> | undefined;
    try {
      if (existsSync('/usr/bin/qemu-system-x86_64')) {
        qemu = lab.spawnIn(hostNs, [
          'qemu-system-x86_64', '-S', '-nographic', '-nodefaults',
          '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`,
          '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:bb:00:01',
        ]);
        await drv.updatePort(port.uuid, { ifname: tap, pid: qemu.pid! });
        // QEMU opened the tap: its carrier comes up.
        let info: { master?: string; flags?: string[] } = {};
        for (let i = 0; i < 100; i++) {
          info = (await host().ipJson<{ master?: string; flags?: string[] }>(['link', 'show', 'dev', tap]))[0] ?? {};
          if (info.flags?.includes('LOWER_UP')) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(info.master).toBe(bridge);
        expect(info.flags).toContain('LOWER_UP');
      } else {
        const info = (await host().ipJson<{ master?: string }>(['link', 'show', 'dev', tap]))[0];
        expect(info?.master).toBe(bridge);
      }
      expect(await net.getXmlDesc()).toContain("connections='1'");
      expect(await code(net.destroy())).toBe('RESOURCE_BUSY');
      expect(await code(net.undefine())).toBe('RESOURCE_BUSY');
    } finally {
      qemu?.kill('SIGKILL');
      await deleteDevice(host(), tap);
      await drv.releasePort(port.uuid);
    }
    expect(await drv.listPorts(name)).toEqual([]);
  });

  it('destroy removes exactly what start added; undefine removes the definition', async () => {
    for (const c of ['c1', 'c2', 'c3']) await deleteDevice(host(), `${prefix}${c}h`);
    await net.destroy();
    expect(await net.isActive()).toBe(false);
    expect(await linkExists(bridge)).toBe(false);
    expect(await linkExists(`${prefix}oh`)).toBe(true); // the host's own device stays
    expect(await listFirewallTables(host())).toEqual([]);
    expect(existsSync(join(root, 'run', 'network', `${name}.json`))).toBe(false);
    expect(leftovers(prefix, root).filter((l) => l.startsWith('process'))).toEqual([]);
    // Leases stay for the next start, as libvirt keeps its lease status.
    expect((await net.getDhcpLeases()).length).toBeGreaterThan(0);
    await net.undefine();
    expect(await code(conn.lookupNetwork(name))).toBe('NO_NETWORK');
    expect(events.map((e) => e.kind === 'network' && e.type)).toEqual(['defined', 'started', 'stopped', 'undefined']);
  });
});

function checkLeaseTable(out: string): void {
  const lines = out.split('\n');
  expect(lines[0]).toMatch(/^ Expiry Time\s+MAC address\s+Protocol\s+IP address\s+Hostname\s+Client ID or DUID$/);
  expect(out).toMatch(/52:54:00:aa:00:01\s+ipv4\s+10\.251\.0\.\d+\/24\s+client1\s+01:52:54:00:aa:00:01/);
  expect(out).toMatch(/52:54:00:aa:00:02\s+ipv4\s+10\.251\.0\.20\/24/);
}

function runAsyncEnv(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (c) => resolvePromise({ code: c ?? 1, stdout, stderr }));
  });
}
