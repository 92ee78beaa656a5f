import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@virtkit/core';
import { PACKAGE_DIR, startDaemon, stopAllDaemons, tempDir, type RunningDaemon } from './test-support/daemon-process.js';
import { startSshd, type TestSshd } from './test-support/sshd.js';

// The virtkit CLI (apps/cli) against a daemon, as a user runs it.
const CLI = join(PACKAGE_DIR, '..', '..', 'apps', 'cli', 'dist', 'bin.js');

let d: RunningDaemon;
let sshd: TestSshd;
const dirs: string[] = [];
/** A temp folder removed after the file's tests. */
const scratch = (prefix: string) => {
  const dir = tempDir(prefix);
  dirs.push(dir);
  return dir;
};

function virtkit(uri: string | undefined, args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...(uri ? ['-c', uri] : []), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  d = await startDaemon();
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  await stopAllDaemons();
  const { rmSync } = await import('node:fs');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the virtkit CLI through virtkitd', () => {
  it('runs the command set over test+ssh://', async () => {
    const uri = `test+ssh://${sshd.user}@127.0.0.1:${sshd.port}/default?socket=${d.rw}&keyfile=${sshd.userKey}&known_hosts=${sshd.knownHosts}`;
    const dir = scratch('vkcli');
    const xmlFile = join(dir, 'guest.xml');
    writeFileSync(xmlFile, "<domain type='test'><name>cli-ssh</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>");

    // event --timeout runs beside the other commands and must see their lifecycle events.
    const watcher = spawn(process.execPath, [CLI, '-c', uri, 'event', '--all', '--loop', '--timeout', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let events = '';
    watcher.stdout.on('data', (b: Buffer) => (events += b.toString()));
    const watcherDone = new Promise<number>((r) => watcher.once('exit', (c) => r(c ?? -1)));
    // Give it time to connect before the changes start.
    for (let i = 0; i < 100 && !d.logs.some((l) => l.msg === 'driver opened'); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));

    const script = [
      'list --all',
      `define ${xmlFile}`,
      'dominfo cli-ssh',
      'start cli-ssh',
      'list',
      'destroy cli-ssh',
      'undefine cli-ssh',
      'list --all',
      'net-list --all',
      'pool-list --all',
      'vol-list default-pool',
      'iface-list',
      'nodeinfo',
      'hostname',
      'uri',
    ].join(' ; ');
    const r = virtkit(uri, [script]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ 1 +test +running/);
    expect(r.out).toContain("Domain 'cli-ssh' defined from");
    expect(r.out).toMatch(/Name: +cli-ssh/);
    expect(r.out).toContain("Domain 'cli-ssh' started");
    expect(r.out).toContain("Domain 'cli-ssh' destroyed");
    expect(r.out).toContain("Domain 'cli-ssh' has been undefined");
    expect(r.out).toMatch(/default +active/);
    expect(r.out).toMatch(/default-pool +active/);
    expect(r.out).toMatch(/eth1 +active/);
    expect(r.out).toMatch(/CPU model: +i686/);
    expect(r.out).toContain(uri);

    // Refusals come back typed: a read-only connection and an unknown domain.
    const ro = virtkit(undefined, ['-r', '-c', uri.replace(`socket=${d.rw}`, `socket=${d.ro}`), 'destroy test']);
    expect(ro.code).toBe(1);
    expect(ro.err).toMatch(/read only/);
    const missing = virtkit(uri, ['dominfo no-such-guest']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no-such-guest/);

    watcher.kill('SIGINT');
    await watcherDone;
    expect(events).toContain("event 'lifecycle' for domain 'cli-ssh': Defined Added");
    expect(events).toContain("event 'lifecycle' for domain 'cli-ssh': Started Booted");
    expect(events).toContain("event 'lifecycle' for domain 'cli-ssh': Stopped Destroyed");
    expect(events).toContain("event 'lifecycle' for domain 'cli-ssh': Undefined Removed");
  }, 90_000);

  it('prints over test+ssh:// exactly what a local test:///default prints, command for command', async () => {
    // A fresh daemon: its test:///default starts in the same state as the local one.
    const fresh = await startDaemon();
    const dir = scratch('vkcmp');
    try {
      const save = join(dir, 't.save');
      const script = [
        'dominfo test', 'domstate test', 'domid test', 'domname 1', 'domuuid test', 'dumpxml test', 'dumpxml --inactive test',
        'suspend test', 'domstate --reason test', 'resume test', `save test ${save}`, 'list --all', `restore ${save}`,
        'managedsave test', 'list --all --managed-save', 'start test', 'autostart test', 'dominfo test', 'autostart --disable test',
        'reboot test', 'reset test', 'shutdown test', 'list --all', 'start test',
        'capabilities', 'nodeinfo', 'version', 'hostname', 'freecell',
        'iface-list --all', 'iface-dumpxml eth1', 'iface-mac eth1', 'iface-name aa:bb:cc:dd:ee:ff',
        'net-list --all', 'net-info default', 'net-dumpxml default', 'net-uuid default', 'net-destroy default', 'net-start default',
        'net-autostart default', 'net-dhcp-leases default',
        'pool-list --all --details', 'pool-info default-pool', 'pool-dumpxml default-pool', 'pool-uuid default-pool',
        'vol-create-as default-pool v1 1M', 'vol-list default-pool --details', 'vol-info v1 --pool default-pool',
        'vol-dumpxml --pool default-pool v1', 'vol-path v1 --pool default-pool', 'vol-key v1 --pool default-pool',
        'vol-resize v1 2M --pool default-pool', 'vol-wipe v1 --pool default-pool', 'vol-clone v1 v2 --pool default-pool',
        'vol-delete v2 --pool default-pool', 'vol-delete v1 --pool default-pool', 'pool-refresh default-pool',
        'destroy test', 'undefine test', 'list --all',
      ].join(' ; ');
      const uri = `test+ssh://${sshd.user}@127.0.0.1:${sshd.port}/default?socket=${fresh.rw}&keyfile=${sshd.userKey}&known_hosts=${sshd.knownHosts}`;
      const local = virtkit('test:///default', [script]);
      const { rmSync } = await import('node:fs');
      rmSync(save, { force: true });
      const remote = virtkit(uri, [script]);
      expect(local.err).toBe('');
      expect(remote.err).toBe('');
      expect(remote.code).toBe(0);
      expect(remote.out.split('\n').length).toBeGreaterThan(300);
      // The test driver's CPU time grows with wall time, which differs between the runs.
      const same = (t: string) => t.replace(/^(CPU time: +)[0-9.]+s$/gm, '$1…');
      expect(same(remote.out)).toBe(same(local.out));
    } finally {
      await fresh.stop();
    }
  }, 90_000);

  it('event --loop over +unix shows a domain started by another client', async () => {
    const uri = `stub+unix:///default?socket=${d.rw}`;
    const watcher = spawn(process.execPath, [CLI, '-c', uri, 'event', '--event', 'lifecycle', '--loop'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    watcher.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const before = d.logs.filter((l) => l.msg === 'driver opened').length;
      for (let i = 0; i < 200 && d.logs.filter((l) => l.msg === 'driver opened').length <= before; i++) await new Promise((r) => setTimeout(r, 25));
      const c = await Connection.open(uri);
      const dom = await c.defineDomainXml('<domain><name>watched</name></domain>');
      await dom.start();
      for (let i = 0; i < 200 && !out.includes('Started'); i++) await new Promise((r) => setTimeout(r, 25));
      expect(out).toContain("event 'lifecycle' for domain 'watched': Started Booted");
      await dom.destroy();
      await dom.undefine();
      await c.close();
    } finally {
      watcher.kill('SIGINT');
    }
  });

  it('goes through a daemon that serves a local URI, and works without one', async () => {
    const dir = scratch('vkroute');
    const root = join(dir, 'root');
    const local = `stub:///embed?root=${root}`;
    const env = { VIRTKIT_PLUGIN_PATH: join(PACKAGE_DIR, 'test-fixtures') };
    const own = await startDaemon({ dir, defaultSockets: true });
    try {
      const through = virtkit(local, ['uri'], env);
      expect(through.code).toBe(0);
      expect(through.out.trim()).toBe(`stub+unix:///embed?root=${encodeURIComponent(root)}&socket=${encodeURIComponent(own.rw)}`);
      const forced = virtkit(local, ['uri'], { ...env, VIRTKIT_NO_DAEMON: '1' });
      expect(forced.out.trim()).toBe(local);
    } finally {
      await own.stop();
    }
    // Its socket file is gone with it: the CLI works on its own.
    const alone = virtkit(local, ['uri'], env);
    expect(alone.code).toBe(0);
    expect(alone.out.trim()).toBe(local);
  });
});
