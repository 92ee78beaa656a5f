/** A network on an existing host bridge: virtkit creates and removes nothing. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginLoader, VirtError, openLocalNetworkDriver, type Connection } from '@virtkit/core';
import { listFirewallTables } from '@virtkit/network-linux';
import { NetnsLab, canRunNetworkTests, leftovers, runPrefix, runnerIn } from '@virtkit/network-linux/testing';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe.skipIf(!canRunNetworkTests().ok)('bridge network (an existing host bridge)', () => {
  const prefix = runPrefix('b');
  const lab = new NetnsLab(prefix);
  const hostBridge = `${prefix}hb`;
  let hostNs = '';
  let root = '';
  let pluginPath = '';
  let conn: Connection;

  beforeAll(async () => {
    hostNs = lab.addNamespace('h');
    ({ conn, root, pluginPath } = await lab.openConnection(hostNs, [pkgDir]));
  });

  afterAll(async () => {
    await conn?.close();
    await lab.cleanup();
    expect(leftovers(prefix, root)).toEqual([]);
  });

  it('refuses to start without the host bridge', async () => {
    const net = await conn.defineNetworkXml(`<network><name>${prefix}-br</name><forward mode='bridge'/><bridge name='${hostBridge}'/></network>`);
    const err = await net.start().catch((e: unknown) => e);
    expect(VirtError.is(err, 'OPERATION_FAILED')).toBe(true);
    expect(await net.isActive()).toBe(false);
  });

  it('attaches guests to the host bridge and leaves it alone', async () => {
    const host = runnerIn(hostNs);
    await host.run(['ip', 'link', 'add', 'name', hostBridge, 'type', 'bridge']);
    const before = (await host.ipJson<{ ifindex: number }>(['link', 'show', 'dev', hostBridge]))[0]!.ifindex;
    const net = await conn.lookupNetwork(`${prefix}-br`);
    await net.start();
    expect(await listFirewallTables(host)).toEqual([]);
    const drv = await openLocalNetworkDriver(conn.uri, { events: conn.events, plugins: new PluginLoader({ roots: [], pluginPath }) });
    const port = await drv.allocatePort({ network: `${prefix}-br`, owner: { name: 'g', uuid: '11111111-2222-4333-8444-555555555555' }, mac: '52:54:00:12:34:56' });
    expect(port.bridge).toBe(hostBridge);
    await drv.releasePort(port.uuid);
    await net.destroy();
    expect((await host.ipJson<{ ifindex: number }>(['link', 'show', 'dev', hostBridge]))[0]!.ifindex).toBe(before);
    await net.undefine();
  });

  it('refuses macvtap-style bridge networks (no bridge name)', async () => {
    const err = await conn.createNetworkXml(`<network><name>${prefix}-mv</name><forward mode='bridge'><interface dev='eth0'/></forward></network>`).catch((e: unknown) => e);
    expect(VirtError.is(err, 'NO_SUPPORT')).toBe(true);
  });
});
