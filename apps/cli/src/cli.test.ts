import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';
import { BufferOutput } from './output.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
const dir = mkdtempSync(join(tmpdir(), 'vk-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function vk(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = new BufferOutput();
  const code = await main(['-c', 'test:///default', ...argv], o);
  return { code, out: o.stdout, err: o.stderr };
}

const guest = join(dir, 'g.xml');
writeFileSync(guest, "<domain type='test'><name>cli-guest</name><memory unit='MiB'>128</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>");

describe('virtkit on test:///default', () => {
  it('lists domains exactly as virsh does', async () => {
    expect(await vk('list', '--all')).toEqual({ code: 0, out: ' Id   Name   State\n----------------------\n 1    test   running\n\n', err: '' });
  });

  it('shows domain titles with list --title, as virsh lays them out', async () => {
    const titled = join(dir, 't.xml');
    writeFileSync(titled, "<domain type='test'><name>titled</name><title>web front</title><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>");
    const r = await vk(`define ${titled}; list --all --title; list --all --title --json; undefine titled`);
    expect(r.err).toBe('');
    const [, table, json] = r.out.split('\n\n');
    expect(table).toBe(' Id   Name     State      Title\n-------------------------------------\n 1    test     running    \n -    titled   shut off   web front');
    expect(JSON.parse(json!)).toEqual([{ id: 1, name: 'test', state: 'running', title: '' }, { id: null, name: 'titled', state: 'shut off', title: 'web front' }]);
  });

  it('prints domstats as virsh does: asked groups only, reasons as numbers, --list-* filters', async () => {
    expect((await vk('domstats --state')).out).toBe("Domain: 'test'\n  state.state=1\n  state.reason=0\n\n");
    expect((await vk('domstats --state --list-shutoff')).out).toBe('\n');
    expect((await vk('suspend test; domstats --state --list-paused; resume test')).out).toContain("Domain: 'test'\n  state.state=3\n  state.reason=1\n");
  });

  it('prints the device a detach would remove with --print-xml, and keeps it', async () => {
    const r = await vk('detach-interface test network --print-xml; domiflist test');
    expect(r.out).toMatch(/^<interface type='network'>\n[\s\S]*<\/interface>\n/);
    expect(r.out).toContain('testnet0');
  });

  it("echoes as virsh does: --shell quoting, --xml escaping, no blank line after", async () => {
    expect((await vk("echo --shell 'a b' \"it's\" plain; echo --xml '<a&b>'")).out).toBe("'a b' 'it'\\''s' plain\n&lt;a&amp;b&gt;\n");
  });

  it("lays a command's help out as virsh does", async () => {
    expect((await vk('help domname')).out).toBe(
      '  NAME\n    domname - convert a domain id or UUID to domain name\n\n  SYNOPSIS\n    domname <domain>\n\n  OPTIONS\n    [--domain] <string>  domain id or uuid\n\n\n',
    );
  });

  it("answers virsh's per-device monitoring commands", async () => {
    expect((await vk('vcpucount test')).out).toBe('maximum      config         2\nmaximum      live           2\ncurrent      config         2\ncurrent      live           2\n\n');
    expect((await vk('vcpucount test --maximum --config')).out).toBe('2\n\n');
    expect((await vk('domblkstat test vda')).out).toBe('vda rd_req 0\nvda rd_bytes 0\nvda wr_req 0\nvda wr_bytes 0\nvda flush_operations 0\n\n');
    expect((await vk('domifstat test aa:bb:cc:dd:ee:ff')).out).toContain('aa:bb:cc:dd:ee:ff tx_drop 0\n');
    expect((await vk('domblkinfo test vda')).out).toBe('Capacity:       1099511627776\nAllocation:     1099511627776\nPhysical:       1099511627776\n\n');
    expect((await vk('domblkinfo test --all --human')).out).toContain(' vda      1.000 TiB   1.000 TiB    1.000 TiB\n');
    expect((await vk('dommemstat test')).out).toBe('actual 2097152\n\n');
    expect((await vk('domifaddr test')).out).toBe(` Name       MAC address          Protocol     Address\n${'-'.repeat(79)}\n\n`);
    expect((await vk('domifaddr test --source agent')).err).toContain("interface address source 'agent' is not supported");
    expect((await vk('vncdisplay test')).err).toBe('error: Failed to get VNC port. Is this domain using VNC?\n');
    expect((await vk('domblkstat test vdz')).code).toBe(1);
  });

  it('builds the disk change-media hands to update-device, and refuses what virsh refuses', async () => {
    const cd = join(dir, 'cd.xml');
    writeFileSync(cd, "<domain type='test'><name>cd</name><memory>65536</memory><os><type>hvm</type></os><devices><disk type='file' device='cdrom'><source file='/a.iso'/><target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>");
    const r = await vk(`define ${cd}; change-media cd hdc /b.iso --print-xml; change-media cd hdc --eject --print-xml; change-media cd hdc /c.iso --insert; change-media cd hdz --eject; undefine cd`);
    expect(r.out).toContain("<disk type='file' device='cdrom'>\n  <source file='/b.iso'/>\n  <target dev='hdc' bus='ide'/>");
    expect(r.out).toContain("<disk type='file' device='cdrom'>\n  <target dev='hdc' bus='ide'/>");
    expect(r.err).toBe("error: The disk device 'hdc' already has media\nerror: No disk found whose source path or target is hdz\n");
  });

  it('prints listings and info as JSON', async () => {
    const r = await vk('list --all --json');
    expect(JSON.parse(r.out)).toEqual([{ id: 1, name: 'test', state: 'running' }]);
    expect(JSON.parse((await vk('dominfo test --json')).out)).toMatchObject({ id: 1, name: 'test', state: 'running', cpus: 2, maxMemory: 8388608, usedMemory: 2097152, persistent: true, autostart: false });
    expect(JSON.parse((await vk('net-list --all --json')).out)).toEqual([{ name: 'default', state: 'active', autostart: false, persistent: true }]);
    expect(JSON.parse((await vk('pool-list --all --json')).out)).toEqual([{ name: 'default-pool', state: 'active', autostart: false }]);
    expect(JSON.parse((await vk('iface-list --all --json')).out)).toEqual([{ name: 'eth1', state: 'active', macAddress: 'aa:bb:cc:dd:ee:ff' }]);
    expect(JSON.parse((await vk('nodeinfo --json')).out)).toMatchObject({ cpuModel: 'i686', cpus: 16 });
  });

  it('runs a whole lifecycle in one ;-separated invocation', async () => {
    const r = await vk(`define ${guest}; start cli-guest; suspend cli-guest; domstate cli-guest --reason; resume cli-guest; destroy cli-guest; undefine cli-guest; list --all --name`);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        `Domain 'cli-guest' defined from ${guest}\n`,
        "Domain 'cli-guest' started\n",
        "Domain 'cli-guest' suspended\n",
        'paused (user)\n',
        "Domain 'cli-guest' resumed\n",
        "Domain 'cli-guest' destroyed\n",
        "Domain 'cli-guest' has been undefined\n",
        'test\n',
      ].join('\n') + '\n',
    );
  });

  it('resolves domains by id, UUID and name', async () => {
    expect((await vk('domname 1')).out).toBe('test\n\n');
    expect((await vk('domid 6695eb01-f6a4-8304-79aa-97f2502e193f')).out).toBe('1\n\n');
    expect((await vk('domuuid test')).out).toBe('6695eb01-f6a4-8304-79aa-97f2502e193f\n\n');
  });

  it('fails like virsh: error on stderr, exit 1, later commands still run', async () => {
    expect(await vk('dominfo nosuch')).toEqual({ code: 1, out: '\n', err: "error: failed to get domain 'nosuch'\n" });
    const r = await vk('domstate nosuch; domstate test');
    expect(r.code).toBe(0);
    expect(r.out).toBe('\nrunning\n\n');
    expect((await vk('nosuchcmd')).err).toBe("error: unknown command: 'nosuchcmd'\n");
    expect((await vk('list --foo')).err).toBe("error: command 'list' doesn't support option --foo\n");
    expect((await vk('dominfo')).err).toBe("error: command 'dominfo' requires <domain> option\n");
    expect((await vk('start test')).err).toBe('error: Domain is already active\n');
    // What the command could not do, then the driver's reason, as virsh reports them.
    const twice = await vk('suspend test; suspend test; resume test');
    expect(twice.code).toBe(0);
    expect(twice.err.split('\n')[0]).toBe("error: Failed to suspend domain 'test'");
    expect(twice.err.split('\n')[1]).toMatch(/^error: .*already paused/);
    const pool = await vk('pool-info nosuch');
    expect(pool.code).toBe(1);
    expect(pool.err.split('\n').slice(0, 2)).toEqual(["error: failed to get pool 'nosuch'", expect.stringMatching(/^error: Storage pool not found: .*'nosuch'/)]);
    expect((await vk('net-start default')).err.split('\n')[0]).toBe('error: Failed to start network default');
  });

  it('selects parts of the XML with --xpath', async () => {
    expect((await vk("dumpxml test --xpath '/domain/devices/disk/source/@file'")).out).toBe(' file="/guest/diskimage1"\n\n');
    expect((await vk("dumpxml test --xpath 'string(/domain/name)'")).out).toBe('test\n\n');
  });

  it('refuses changes on a read-only connection', async () => {
    const o = new BufferOutput();
    expect(await main(['-r', '-c', 'test:///default', 'destroy', 'test'], o)).toBe(1);
    expect(o.stderr).toMatch(/read only/);
  });

  it('keeps quiet with -q', async () => {
    const o = new BufferOutput();
    await main(['-q', '-c', 'test:///default', 'list'], o);
    expect(o.stdout).toBe(' 1   test   running\n');
  });

  it('prints help for a command and for all of them', async () => {
    expect((await vk('help list')).out).toContain('  NAME\n    list - list domains');
    expect((await vk('help')).out).toContain(' Domain Management (help keyword \'domain\'):');
  });

  it('runs as a program with virsh exit codes', () => {
    const ok = spawnSync(process.execPath, [bin, '-c', 'test:///default', 'list', '--all'], { encoding: 'utf8' });
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(' 1    test   running');
    const bad = spawnSync(process.execPath, [bin, '-c', 'test:///default', 'dominfo', 'nosuch'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe("error: failed to get domain 'nosuch'\n");
    const shell = spawnSync(process.execPath, [bin, '-c', 'test:///default'], { encoding: 'utf8', input: 'domstate test\nquit\n' });
    expect(shell.status).toBe(0);
    expect(shell.stdout).toBe('running\n\n');
  });
});
