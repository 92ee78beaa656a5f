/**
 * Crash recovery on the real kernel: the next process re-attaches to
 * running networks (restarting a dead dnsmasq), cleans up a network whose
 * bridge vanished, and rolls back a start interrupted by a crash using
 * only the state file — touching nothing it did not record.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, PluginLoader, parseNetworkXml, type VirtEvent } from '@virtkit/core';
import { applyFirewallScript, buildNetworkFirewall, firewallTableFor, listFirewallTables } from '@virtkit/network-linux';
import { NetnsLab, canRunNetworkTests, leftovers, runPrefix, runnerIn } from '@virtkit/network-linux/testing';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

describe.skipIf(!canRunNetworkTests().ok)('network crash recovery (real kernel)', () => {
  const prefix = runPrefix('y');
  const lab = new NetnsLab(prefix);
  const bridge = `${prefix}br`;
  const name = `${prefix}-net`;
  let hostNs = '';
  let root = '';
  let uri = '';
  let pluginPath = '';
  const conns: Connection[] = [];

  const open = async (events?: VirtEvent[]) => {
    const c = await Connection.open(uri, { loader: new PluginLoader({ roots: [], pluginPath }) });
    if (events) c.on('network', (e) => events.push(e));
    conns.push(c);
    return c;
  };
  const host = () => runnerIn(hostNs);
  const exists = async (dev: string) => (await host().run(['ip', 'link', 'show', 'dev', dev], { allowFailure: true })).code === 0;
  const pidFile = () => join(root, 'run', 'network', `${name}.pid`);

  beforeAll(async () => {
    hostNs = lab.addNamespace('h');
    let conn: Connection;
    ({ conn, root, uri, pluginPath } = await lab.openConnection(hostNs, [pkgDir]));
    conns.push(conn);
    await conn.defineNetworkXml(`<network><name>${name}</name><forward mode='nat'/><bridge name='${bridge}' stp='off'/>
      <ip address='10.246.0.1' prefix='24'><dhcp><range start='10.246.0.10' end='10.246.0.20'/></dhcp></ip></network>`);
    await (await conn.lookupNetwork(name)).start();
  });

  afterAll(async () => {
    for (const c of conns) await c.close();
    await lab.cleanup();
    expect(leftovers(prefix, root)).toEqual([]);
  });

  it('restarts a dnsmasq that died', async () => {
    const pid = Number((await readFile(pidFile(), 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    // Gone, or a zombie (empty cmdline); the file may vanish between two looks, so a failed read counts as gone.
    const cmdline = () => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    for (let i = 0; i < 250 && (await cmdline()) !== ''; i++) await new Promise((r) => setTimeout(r, 20));
    const c = await open();
    expect((await c.lookupNetwork(name)).lastSummary.active).toBe(true);
    const again = Number((await readFile(pidFile(), 'utf8')).trim());
    expect(again).not.toBe(pid);
    expect((await readFile(`/proc/${again}/cmdline`, 'utf8')).split('\0')[0]).toMatch(/dnsmasq$/);
  });

  it('cleans up a network whose bridge was removed behind its back', async () => {
    await host().run(['ip', 'link', 'del', 'dev', bridge]);
    const events: VirtEvent[] = [];
    const c = await open(events);
    expect((await c.lookupNetwork(name)).lastSummary.active).toBe(false);
    expect(events.map((e) => e.kind === 'network' && e.type)).toEqual(['stopped']);
    expect(await listFirewallTables(host())).toEqual([]);
    expect(leftovers(prefix, root).filter((l) => l.startsWith('process'))).toEqual([]);
    expect(existsSync(join(root, 'run', 'network', `${name}.json`))).toBe(false);
  });

  it('rolls back a start interrupted by a crash, and only what it recorded', async () => {
    // What a crashed start left: a bridge and a table, recorded in a state file owned by a dead process.
    const crashed = `${prefix}-cr`;
    const crBridge = `${prefix}cr`;
    const def = parseNetworkXml(`<network><name>${crashed}</name><forward mode='nat'/><bridge name='${crBridge}'/><ip address='10.245.0.1' prefix='24'/></network>`);
    await host().run(['ip', 'link', 'add', 'name', crBridge, 'type', 'bridge']);
    const table = firewallTableFor(crBridge);
    await applyFirewallScript(host(), buildNetworkFirewall(def, table));
    // Someone else's bridge and table, which must survive.
    await host().run(['ip', 'link', 'add', 'name', `${prefix}keep`, 'type', 'bridge']);
    await host().run(['nft', 'add', 'table', 'inet', 'someone_else']);
    await mkdir(join(root, 'run', 'network'), { recursive: true });
    await writeFile(
      join(root, 'run', 'network', `${crashed}.json`),
      JSON.stringify({
        version: 1, name: crashed, uuid: def.uuid, phase: 'starting', owner: deadPid(), mode: 'nat', xml: `<network><name>${crashed}</name><uuid>${def.uuid}</uuid><forward mode='nat'/><bridge name='${crBridge}'/><ip address='10.245.0.1' prefix='24'/></network>`,
        steps: [{ kind: 'bridge', name: crBridge }, { kind: 'nft-table', family: 'inet', name: table.name }],
        data: {}, ports: [], startedAt: Date.now(),
      }),
    );
    const c = await open();
    expect((await c.listAllNetworks({ active: true, inactive: true })).map((n) => n.name)).toEqual([name]);
    expect(await exists(crBridge)).toBe(false);
    expect(await exists(`${prefix}keep`)).toBe(true);
    expect((await listFirewallTables(host())).map((t) => t.name)).toEqual(['someone_else']);
    await host().run(['nft', 'delete', 'table', 'inet', 'someone_else']);
  });
});
