/** An isolated network (no <forward>) on the real kernel: DHCP and DNS on the bridge, nothing forwarded. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, NetworkHandle } from '@virtkit/core';
import { firewallTableFor, listFirewallTables } from '@virtkit/network-linux';
import { NetnsLab, canRunNetworkTests, leftovers, runPrefix, runnerIn } from '@virtkit/network-linux/testing';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe.skipIf(!canRunNetworkTests().ok)('isolated network (real kernel, dnsmasq, nftables)', () => {
  const prefix = runPrefix('i');
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
    await runnerIn(`${prefix}o`).run(['ip', 'route', 'add', '10.249.0.0/24', 'via', '198.51.100.1']);
    await lab.startWhoAmI(`${prefix}o`, 7000);
    // Forwarding on in the host (as another network would turn it on): only the network's rules stop traffic.
    await runnerIn(hostNs).setSysctl('net/ipv4/ip_forward', '1');
  });

  afterAll(async () => {
    await conn?.close();
    await lab.cleanup();
    expect(leftovers(prefix, root)).toEqual([]);
  });

  it('serves DHCP and DNS to guests, which reach each other', async () => {
    net = await conn.createNetworkXml(`<network>
  <name>${prefix}-iso</name>
  <bridge name='${bridge}' stp='off'/>
  <dns><host ip='10.249.0.9'><hostname>files</hostname></host></dns>
  <ip address='10.249.0.1' prefix='24'><dhcp><range start='10.249.0.10' end='10.249.0.20'/></dhcp></ip>
</network>`);
    expect(net.lastSummary).toMatchObject({ active: true, persistent: false });
    const a = lab.addClient(hostNs, bridge, 'c1', '52:54:00:cc:00:01');
    const b = lab.addClient(hostNs, bridge, 'c2', '52:54:00:cc:00:02');
    const ipA = await lab.dhcp(a.ns);
    const ipB = await lab.dhcp(b.ns);
    lab.configureLease(a.ns, ipA, 24, '10.249.0.1');
    lab.configureLease(b.ns, ipB, 24);
    expect(await lab.dnsQuery(a.ns, '10.249.0.1', 'files')).toEqual(['10.249.0.9']);
    await lab.startWhoAmI(b.ns, 7001);
    expect(await lab.whoAmI(a.ns, ipB, 7001)).toBe(ipA);
  });

  it('forwards nothing, in either direction', async () => {
    await expect(lab.whoAmI(`${prefix}c1`, '198.51.100.2', 7000, 1500)).rejects.toThrow();
    const ipB = (await net.getDhcpLeases('52:54:00:cc:00:02'))[0]!.ipaddr;
    await expect(lab.whoAmI(`${prefix}o`, ipB, 7001, 1500)).rejects.toThrow();
    const rules = (await runnerIn(hostNs).run(['nft', 'list', 'table', 'inet', firewallTableFor(bridge).name])).stdout;
    expect(rules).not.toContain('postrouting');
    expect(rules).toMatch(/oifname "\S+" counter packets [1-9]\d* bytes \d+ reject/);
  });

  it('destroying the transient network removes it and everything it added', async () => {
    await net.destroy();
    expect((await conn.listAllNetworks()).map((n) => n.name)).toEqual([]);
    expect((await runnerIn(hostNs).run(['ip', 'link', 'show', 'dev', bridge], { allowFailure: true })).code).not.toBe(0);
    expect(await listFirewallTables(runnerIn(hostNs))).toEqual([]);
    expect(leftovers(prefix, root).filter((l) => l.startsWith('process'))).toEqual([]);
  });
});
