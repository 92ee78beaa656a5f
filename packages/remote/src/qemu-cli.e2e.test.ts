/**
 * The virtkit CLI's command set over qemu+ssh:// against a virtkitd on
 * "another host" (OpenSSH's sshd on 127.0.0.1, the daemon's socket reached
 * by streamlocal forwarding), with real QEMU guests, the daemon's local
 * network driver (in a network namespace) and a dir pool. Where output is
 * deterministic, it is compared with the same command run locally on a
 * second embed root.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_GUEST_PROMPT } from '@virtkit/driver-qemu/test-support';
import { canRunNetworkTests, leftovers, NetnsLab, runPrefix } from '@virtkit/network-linux/testing';
import { PACKAGE_DIR, stopAllDaemons, tempDir } from './test-support/daemon-process.js';
import { HAVE_QEMU, killQemusOf, startQemuDaemon, type QemuDaemon } from './test-support/qemu.js';
import { startSshd, type TestSshd } from './test-support/sshd.js';

const CLI = join(PACKAGE_DIR, '..', '..', 'apps', 'cli', 'dist', 'bin.js');
const NET_OK = canRunNetworkTests().ok;

interface Run {
  code: number;
  out: string;
  err: string;
}

describe.skipIf(!HAVE_QEMU)('the virtkit CLI over qemu+ssh:// against virtkitd (real QEMU guests)', () => {
  let q: QemuDaemon | undefined;
  let sshd: TestSshd | undefined;
  let remoteUri = '';
  let localRoot = '';
  let localUri = '';
  let scratch = '';
  const prefix = runPrefix('r');
  const lab = new NetnsLab(prefix);
  const watchers: ChildProcess[] = [];

  /** One CLI process (cwd: this package, so the network modes it depends on are found). */
  const vk = (uri: string, ...args: string[]): Run => {
    const r = spawnSync(process.execPath, [CLI, '-c', uri, ...args], { cwd: PACKAGE_DIR, encoding: 'utf8', timeout: 90_000 });
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
  };
  /** Runs a command remotely (it must succeed) and returns its output. */
  const remote = (...args: string[]): string => {
    const r = vk(remoteUri, ...args);
    expect(r.err, `remote '${args.join(' ')}' wrote to stderr`).toBe('');
    expect(r.code, `remote '${args.join(' ')}'`).toBe(0);
    return r.out;
  };
  /** Each side's own folder (names of one length: tables pad to the longest path). */
  const sideDir = (side: 'remote' | 'local') => join(scratch, side === 'remote' ? 'rem' : 'loc');
  /** What differs between the two hosts by construction: their folders. */
  const norm = (text: string, side: 'remote' | 'local') =>
    text
      .split(sideDir(side))
      .join('<DIR>')
      .split(side === 'remote' ? q!.root : localRoot)
      .join('<ROOT>');
  /** Runs a command on both sides; their outputs (folders aside) must be the same. Returns the remote one (folders as <DIR>, <ROOT>). */
  const both = (...args: string[]): string => bothAs((t) => t, ...args);
  /** `both`, comparing the outputs after `fix` (for what differs by nature: times, sizes). */
  const bothAs = (fix: (text: string) => string, ...args: string[]): string => {
    const side = (s: 'remote' | 'local') => args.map((a) => a.replace('@DIR@', sideDir(s)));
    const r = vk(remoteUri, ...side('remote'));
    const l = vk(localUri, ...side('local'));
    expect(r.err, `remote '${args.join(' ')}' wrote to stderr`).toBe('');
    expect(l.err, `local '${args.join(' ')}' wrote to stderr`).toBe('');
    expect(r.code, `remote '${args.join(' ')}'`).toBe(0);
    expect(fix(norm(r.out, 'remote')), `'${args.join(' ')}' prints the same over ssh as locally`).toBe(fix(norm(l.out, 'local')));
    return norm(r.out, 'remote');
  };

  beforeAll(async () => {
    q = await startQemuDaemon();
    sshd = await startSshd();
    scratch = tempDir('vkq');
    for (const s of ['remote', 'local'] as const) mkdirSync(join(sideDir(s), 'pool'), { recursive: true });
    // As long as the daemon's root (…/vkd-XXXXXX/root), for the same reason.
    localRoot = join(scratch, 'root');
    localUri = `qemu:///embed?root=${localRoot}`;
    if (NET_OK) {
      // Each "host" runs its networks in its own namespace (bridges, nftables, dnsmasq).
      for (const [root, ns] of [
        [q.root, lab.addNamespace('d')],
        [localRoot, lab.addNamespace('l')],
      ] as const) {
        mkdirSync(join(root, 'etc'), { recursive: true });
        writeFileSync(join(root, 'etc', 'network.conf'), `netns = "${ns}"\n`);
      }
    }
    remoteUri = `qemu+ssh://${sshd.user}@127.0.0.1:${sshd.port}/system?socket=${q.daemon.rw}&keyfile=${sshd.userKey}&known_hosts=${sshd.knownHosts}`;
  }, 120_000);

  afterAll(async () => {
    for (const w of watchers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await killQemusOf([q?.root ?? '', localRoot]);
    await sshd?.stop();
    await q?.stop();
    await stopAllDaemons();
    await lab.cleanup();
    const left = NET_OK ? leftovers(prefix, scratch) : [];
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    expect(left).toEqual([]);
  }, 120_000);

  /** `virtkit console` over ssh: waits for the prompt, runs `line`, waits for `expectText`, leaves with ^]. */
  const consoleSession = (name: string, line: string, expectText: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, '-c', remoteUri, 'console', name], { cwd: PACKAGE_DIR });
      watchers.push(child);
      let out = '';
      let sent = false;
      // A prompt printed before the console was opened is gone: press Enter until one shows.
      const poke = setInterval(() => {
        if (!sent) child.stdin.write('\n');
      }, 1000);
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`console: no '${expectText}' in ${JSON.stringify(out.slice(-400))}`));
      }, 60_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString('latin1');
        if (!sent && out.includes(TEST_GUEST_PROMPT)) {
          sent = true;
          child.stdin.write(`${line}\n`);
        } else if (sent && out.includes(expectText)) child.stdin.write('\x1d');
      });
      child.on('exit', (code) => {
        clearInterval(poke);
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`virtkit console exited with ${code}: ${out.slice(-300)}`));
      });
    });

  it('runs the domain commands on a real guest, printing what the same commands print locally', async () => {
    const name = 'rq-guest';
    const uuid = 'c7a5fdbd-cdaf-9455-926a-d65c16db1809';
    const xml = join(scratch, 'guest.xml');
    writeFileSync(
      xml,
      q!.domainXml(name, { uuid, devices: "<interface type='user'><mac address='52:54:00:5e:00:01'/><model type='virtio'/></interface>" }),
    );

    // A watcher for the whole run, and one-shot `event --timeout` watchers that must see the define and the start by other clients.
    const opened = () => q!.daemon.logs.filter((l) => l.msg === 'driver opened').length;
    const spawnWatcher = (args: string[]) => {
      const before = opened();
      const child = spawn(process.execPath, [CLI, '-c', remoteUri, 'event', ...args], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
      watchers.push(child);
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const done = new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
      return { before, output: () => out + err, done, child };
    };
    const loop = spawnWatcher(['--all', '--loop']);
    // (`--domain` names an existing domain, as in virsh: this one does not exist yet.)
    const oneShot = spawnWatcher(['--event', 'lifecycle', '--timeout', '60']);
    for (let i = 0; i < 400 && opened() < loop.before + 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(opened()).toBeGreaterThanOrEqual(loop.before + 2);

    both('define', xml);
    // The one-shot watcher takes the first lifecycle event after it connected: the define.
    const oneShotCode = await oneShot.done;
    expect(oneShot.output()).toContain(`event 'lifecycle' for domain '${name}': Defined Added`);
    expect(oneShotCode).toBe(0);
    const startWatch = spawnWatcher(['--domain', name, '--event', 'lifecycle', '--timeout', '60']);
    for (let i = 0; i < 400 && opened() < startWatch.before + 1; i++) await new Promise((r) => setTimeout(r, 25));

    expect(both('start', name)).toContain(`Domain '${name}' started`);
    const startCode = await startWatch.done;
    expect(startWatch.output()).toContain(`event 'lifecycle' for domain '${name}': Started Booted`);
    expect(startCode).toBe(0);
    expect(startWatch.output()).toContain('events received: 1');

    // The read-only commands as one script (one SSH login per side), the output compared as a whole.
    const looks = bothAs(
      (t) => t.replace(/^(CPU time:\s+)\S+$/m, '$1…').replace(/\/dev\/pts\/\d+/g, '/dev/pts/N'),
      [
        'list', 'list --all --uuid', `dominfo ${name}`, `domstate --reason ${name}`, `domid ${name}`, `domuuid ${name}`,
        `domblklist ${name}`, `domiflist ${name}`, `dumpxml --inactive ${name}`, `dumpxml ${name}`,
        `dumpxml ${name} --xpath //memory`, `dumpxml ${name} --xpath 'string(/domain/uuid)'`,
        `vcpucount ${name}`, `dommemstat ${name}`, `domblkinfo ${name} --all`, `domifaddr ${name}`,
        `qemu-monitor-command ${name} --return-value '{"execute":"query-name"}'`,
      ].join(' ; '),
    );
    expect(looks).toContain('maximum      live           1\n');
    expect(looks).toContain(`{"name":"${name}"}`);
    expect(looks).toMatch(new RegExp(`\\d+\\s+${name}\\s+running`));
    expect(looks).toMatch(/State:\s+running/);
    expect(looks).toMatch(/user\s+-?\s*virtio\s+52:54:00:5e:00:01/);
    expect(looks).toContain('\n<memory unit="KiB">262144</memory>\n');
    expect(looks).toContain(`\n${uuid}\n`);
    const keys = (t: string) => t.split('\n').map((l) => l.replace(/=.*$/, '')).join('\n');
    const stats = bothAs(keys, 'domstats', name);
    expect(stats).toMatch(/state\.state=1/);
    expect(stats).toMatch(/balloon\.current=/);

    expect(both('suspend', name)).toContain(`Domain '${name}' suspended`);
    expect(both('domstate', '--reason', name).trim()).toBe('paused (user)');
    expect(both('resume', name)).toContain(`Domain '${name}' resumed`);

    // The console stream through SSH reaches the guest's shell.
    expect(await consoleSession(name, 'echo $((20+22))', '42')).toContain('42');

    // Disk hot-plug (the guest has booted: it answers the unplug).
    const img = join(scratch, 'data.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '16M']);
    expect(remote('attach-disk', name, img, 'vdb', '--subdriver', 'qcow2', '--live')).toContain('Disk attached successfully');
    expect(remote('domblklist', name)).toMatch(/vdb\s+\S*data\.qcow2/);
    // (The guest names its disks in probe order: the only one is its vda.)
    expect(await consoleSession(name, 'cat /sys/block/vd*/size', '32768')).toContain('32768');
    expect(remote('detach-disk', name, 'vdb', '--live')).toContain('Disk detached successfully');
    for (let i = 0; i < 50 && remote('domblklist', name).includes('vdb'); i++) await new Promise((r) => setTimeout(r, 200));
    expect(remote('domblklist', name)).not.toContain('vdb');

    both('setmem', name, '200M', '--live');
    expect(remote('dominfo', name)).toMatch(/Used memory:\s+204800 KiB/);

    expect(both('save', name, '@DIR@/guest.save')).toContain(`Domain '${name}' saved to <DIR>/guest.save`);
    expect(both('domstate', '--reason', name).trim()).toBe('shut off (saved)');
    expect(both('restore', '@DIR@/guest.save')).toContain('Domain restored from <DIR>/guest.save');
    expect(both('domstate', '--reason', name).trim()).toBe('running (restored)');

    expect(both('destroy', name)).toContain(`Domain '${name}' destroyed`);
    expect(both('undefine', name)).toContain(`Domain '${name}' has been undefined`);
    both('list', '--all');

    // Refusals come back typed and named.
    const missing = vk(remoteUri, 'dominfo', 'no-such-guest');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no-such-guest/);
    const ro = vk(remoteUri.replace(`socket=${q!.daemon.rw}`, `socket=${q!.daemon.ro}`), '-r', 'define', xml);
    expect(ro.code).toBe(1);
    expect(ro.err).toMatch(/read only/);

    loop.child.kill('SIGINT');
    await loop.done;
    for (const ev of ['Defined Added', 'Started Booted', 'Suspended Paused', 'Resumed Unpaused', 'Stopped Saved', 'Started Restored', 'Stopped Destroyed', 'Undefined Removed']) {
      expect(loop.output()).toContain(`event 'lifecycle' for domain '${name}': ${ev}`);
    }
  }, 180_000);

  it('manages a dir pool and its volumes, uploading and downloading through the stream protocol', () => {
    const pool = `${prefix}-pool`;
    expect(both('pool-define-as', pool, 'dir', '--target', '@DIR@/pool')).toContain(`Pool ${pool} defined`);
    // Steps without their own checks go as scripts: one SSH login per side.
    const listed = bothAs(
      (t) => t.replace(/^(Capacity|Allocation|Available|UUID):.*$/gm, '$1: …'),
      `pool-build ${pool} ; pool-start ${pool} ; pool-autostart ${pool} ; pool-list --all ; pool-info ${pool}`,
    );
    expect(listed).toMatch(new RegExp(`${pool}\\s+active\\s+yes`));

    expect(both('vol-create-as', pool, 'v1', '1M')).toContain('Vol v1 created');
    const blob = join(scratch, 'blob');
    const data = Buffer.alloc(700_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    writeFileSync(blob, data);
    both('vol-upload', 'v1', blob, '--pool', pool);
    const back = join(scratch, 'back');
    remote('vol-download', 'v1', back, '--pool', pool);
    const got = readFileSync(back);
    expect(got.length).toBe(1024 * 1024);
    expect(got.subarray(0, data.length).equals(data)).toBe(true);
    expect(readFileSync(join(sideDir('remote'), 'pool', 'v1')).equals(got)).toBe(true);
    // A part of it, at an offset.
    remote('vol-download', 'v1', back, '--pool', pool, '--offset', '1000', '--length', '5000');
    expect(readFileSync(back).equals(data.subarray(1000, 6000))).toBe(true);

    const vols = bothAs(
      (t) => t.replace(/<([acm]time)>[0-9.]+</g, '<$1>…<'),
      [
        `vol-list ${pool} --details`, `vol-info v1 --pool ${pool}`, `vol-dumpxml v1 --pool ${pool}`, `vol-path v1 --pool ${pool}`,
        `vol-resize v1 2M --pool ${pool}`, `vol-info v1 --pool ${pool}`, `vol-delete v1 --pool ${pool}`, `pool-destroy ${pool}`,
      ].join(' ; '),
    );
    expect(vols).toContain('<DIR>/pool/v1');
    expect(vols).toMatch(/Capacity:\s+2\.00 MiB/);
    expect(both('pool-undefine', pool)).toContain(`Pool ${pool} has been undefined`);
  }, 60_000);

  it.skipIf(!NET_OK)("manages a network on the daemon's host", () => {
    const net = `${prefix}-net`;
    const xml = join(scratch, 'net.xml');
    writeFileSync(
      xml,
      `<network>
  <name>${net}</name>
  <uuid>4e2b6a0c-7e1d-4c1b-9a8e-2f1d3c4b5a69</uuid>
  <bridge name='${prefix}br' stp='on' delay='0'/>
  <mac address='52:54:00:5e:01:01'/>
  <ip address='10.251.7.1' prefix='24'/>
</network>
`,
    );
    expect(both('net-define', xml)).toContain(`Network ${net} defined from`);
    expect(both('net-start', net)).toContain(`Network ${net} started`);
    const looks = both(
      [`net-info ${net}`, `net-dumpxml ${net}`, `net-dumpxml --inactive ${net}`, `net-uuid ${net}`, `net-autostart ${net}`, 'net-list --all', `net-dhcp-leases ${net}`].join(' ; '),
    );
    expect(looks).toMatch(new RegExp(`${net}\\s+active\\s+yes\\s+yes`));
    expect(looks).toContain(`<bridge name='${prefix}br'`);
    expect(both('net-destroy', net)).toContain(`Network ${net} destroyed`);
    expect(both('net-undefine', net)).toContain(`Network ${net} has been undefined`);
  }, 60_000);
});
