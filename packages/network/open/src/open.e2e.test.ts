/** An open network on the real kernel: bridge and dnsmasq, no firewall rules of its own. */
import { spawnSync } from 'node:child_process';
import { chmod, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '@virtkit/core';
import { listFirewallTables } from '@virtkit/network-linux';
import { NetnsLab, canRunNetworkTests, leftovers, runPrefix, runnerIn } from '@virtkit/network-linux/testing';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe.skipIf(!canRunNetworkTests().ok)('open network (real kernel, dnsmasq)', () => {
  const prefix = runPrefix('p');
  const lab = new NetnsLab(prefix);
  const bridge = `${prefix}br`;
  let hostNs = '';
  let root = '';
  let conn: Connection;

  beforeAll(async () => {
    hostNs = lab.addNamespace('h');
    ({ conn, root } = await lab.openConnection(hostNs, [pkgDir]));
  });

  afterAll(async () => {
    await conn?.close();
    await lab.cleanup();
    expect(leftovers(prefix, root)).toEqual([]);
  });

  it('starts with DHCP and no nftables table, and stops clean', async () => {
    // A private root: dnsmasq could not re-read its hosts files as an unprivileged user, so it stays root.
    await chmod(root, 0o700);
    const net = await conn.createNetworkXml(`<network>
  <name>${prefix}-open</name>
  <forward mode='open'/>
  <bridge name='${bridge}' stp='on' delay='0'/>
  <mtu size='1400'/>
  <ip address='10.247.0.1' prefix='24'><dhcp><range start='10.247.0.10' end='10.247.0.20'/></dhcp></ip>
</network>`);
    expect(await listFirewallTables(runnerIn(hostNs))).toEqual([]);
    const pid = (await readFile(join(root, 'run', 'network', `${prefix}-open.pid`), 'utf8')).trim();
    expect(spawnSync('ps', ['-o', 'user=', '-p', pid]).stdout.toString().trim()).toBe('root');
    const link = (await runnerIn(hostNs).ipJson<{ mtu: number; linkinfo?: { info_data?: { stp_state?: number } } }>(['-d', 'link', 'show', 'dev', bridge]))[0]!;
    expect(link.mtu).toBe(1400);
    expect(link.linkinfo?.info_data?.stp_state).toBe(1);
    const c = lab.addClient(hostNs, bridge, 'c1', '52:54:00:ee:00:01');
    // STP: the port needs its listening and learning time before DHCP gets through.
    expect(await lab.dhcp(c.ns, 'eth0', undefined, 30)).toMatch(/^10\.247\.0\.(1\d|20)$/);
    await net.destroy();
    expect((await runnerIn(hostNs).run(['ip', 'link', 'show', 'dev', bridge], { allowFailure: true })).code).not.toBe(0);
  });
});
