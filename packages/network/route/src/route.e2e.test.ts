/** A routed network on the real kernel: the outside sees guests' own addresses and can reach them. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, NetworkHandle } from '@virtkit/core';
import { firewallTableFor, listFirewallTables } from '@virtkit/network-linux';
import { NetnsLab, canRunNetworkTests, leftovers, runPrefix, runnerIn } from '@virtkit/network-linux/testing';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe.skipIf(!canRunNetworkTests().ok)('routed network (real kernel, dnsmasq, nftables)', () => {
  const prefix = runPrefix('r');
  const lab = new NetnsLab(prefix);
  const bridge = `${prefix}br`;
  let hostNs = '';
  let root = '';
  let conn: Connection;
  let net: NetworkHandle;

  beforeAll(async () => {
    hostNs = lab.addNamespace('h');
    ({ conn, root } = await lab.openConnection(hostNs, [pkgDir]));
    lab.addOutside(hostNs, 'o', '198.51.100.1', '198.51.100.2', 24);
    // The outside knows the way back to the routed subnet.
    await runnerIn(`${prefix}o`).run(['ip', 'route', 'add', '10.248.0.0/24', 'via', '198.51.100.1']);
    await lab.startWhoAmI(`${prefix}o`, 7000);
  });

  afterAll(async () => {
    await conn?.close();
    await lab.cleanup();
    expect(leftovers(prefix, root)).toEqual([]);
  });

  it('routes without NAT, both ways', async () => {
    net = await conn.defineNetworkXml(`<network>
  <name>${prefix}-rt</name>
  <forward mode='route'/>
  <bridge name='${bridge}' stp='off'/>
  <ip address='10.248.0.1' prefix='24'><dhcp><range start='10.248.0.10' end='10.248.0.20'/></dhcp></ip>
  <ip family='ipv6' address='fd00:248::1' prefix='64'><dhcp><range start='fd00:248::100' end='fd00:248::1ff'/></dhcp></ip>
</network>`);
    await net.start();
    // Dual stack: the bridge routes IPv6 too (addresses, forwarding, no router advertisements accepted).
    const addrs = (await runnerIn(hostNs).ipJson<{ addr_info: Array<{ local: string; prefixlen: number }> }>(['addr', 'show', 'dev', bridge]))[0]!.addr_info;
    expect(addrs.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(expect.arrayContaining(['10.248.0.1/24', 'fd00:248::1/64']));
    expect(await runnerIn(hostNs).getSysctl(`net/ipv6/conf/${bridge}/accept_ra`)).toBe('0');
    expect(await runnerIn(hostNs).getSysctl('net/ipv6/conf/all/forwarding')).toBe('1');
    const c = lab.addClient(hostNs, bridge, 'c1', '52:54:00:dd:00:01');
    const ip = await lab.dhcp(c.ns);
    lab.configureLease(c.ns, ip, 24, '10.248.0.1');
    expect(await lab.whoAmI(c.ns, '198.51.100.2', 7000)).toBe(ip);
    await lab.startWhoAmI(c.ns, 7001);
    expect(await lab.whoAmI(`${prefix}o`, ip, 7001)).toBe('198.51.100.2');
    const rules = (await runnerIn(hostNs).run(['nft', 'list', 'table', 'inet', firewallTableFor(bridge).name])).stdout;
    expect(rules).not.toMatch(/masquerade|snat/);
    expect(await runnerIn(hostNs).getSysctl('net/ipv4/ip_forward')).toBe('1');
  });

  it('stop leaves nothing', async () => {
    await net.destroy();
    await net.undefine();
    expect((await runnerIn(hostNs).run(['ip', 'link', 'show', 'dev', bridge], { allowFailure: true })).code).not.toBe(0);
    expect(await listFirewallTables(runnerIn(hostNs))).toEqual([]);
    expect(leftovers(prefix, root).filter((l) => l.startsWith('process'))).toEqual([]);
  });
});
