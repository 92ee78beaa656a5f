/** The QEMU driver from the command line: the test guest defined, started, reached on its console, changed and removed with `virtkit`, one process per command. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestGuest, killQemusMatching, testGuestDomainXml, type TestGuest } from '@virtkit/driver-qemu/test-support';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin.js');
const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64 && command -v qemu-img'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!haveQemu)('virtkit with qemu:///embed (a real guest)', () => {
  let root = '';
  let guest: TestGuest;
  const name = 'cli-guest';
  const vk = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, '-c', `qemu:///embed?root=${root}`, ...args], { timeout: 60_000 });
    return { code: r.status ?? 1, out: r.stdout.toString(), err: r.stderr.toString() };
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'vkcli-qemu-'));
    guest = await buildTestGuest();
  }, 60_000);

  afterAll(async () => {
    vk('destroy', name);
    vk('undefine', name, '--managed-save');
    await killQemusMatching(root);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  /** `virtkit console` (or `start --console`): waits for the prompt, runs `line`, waits for `expectText`, leaves with ^]. */
  const consoleSession = (line: string, expectText: string, command = ['console', name]) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, '-c', `qemu:///embed?root=${root}`, ...command]);
      let out = '';
      let sent = false;
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`console: no '${expectText}' in ${JSON.stringify(out.slice(-400))}`));
      }, 45_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString('latin1');
        if (!sent && out.includes(guest.prompt)) {
          sent = true;
          child.stdin.write(`${line}\n`);
        } else if (sent && out.includes(expectText)) child.stdin.write('\x1d');
      });
      setTimeout(() => child.stdin.write('\n'), 300);
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`virtkit console exited with ${code}: ${out.slice(-300)}`));
      });
    });

  it('prints the VNC display of a guest with graphics', () => {
    const xml = join(root, 'vnc.xml');
    writeFileSync(xml, "<domain type='qemu'><name>cli-vnc</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os><devices><graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/></devices></domain>");
    expect(vk('define', xml).code).toBe(0);
    try {
      expect(vk('start', 'cli-vnc').code).toBe(0);
      const port = Number(/<graphics type='vnc' port='(\d+)'/.exec(vk('dumpxml', 'cli-vnc').out)?.[1]);
      expect(port).toBeGreaterThanOrEqual(5900);
      expect(vk('vncdisplay', 'cli-vnc').out).toBe(`127.0.0.1:${port - 5900}\n\n`);
      expect(vk('domdisplay', 'cli-vnc').out).toBe(`vnc://127.0.0.1:${port - 5900}\n\n`);
    } finally {
      vk('destroy', 'cli-vnc');
      vk('undefine', 'cli-vnc');
    }
  }, 60_000);

  it('changes the media of a running guest\'s cdrom', () => {
    const xml = join(root, 'cd.xml');
    const iso = join(root, 'media.iso');
    writeFileSync(iso, Buffer.alloc(2048 * 16));
    writeFileSync(xml, "<domain type='qemu'><name>cli-cd</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices><disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>");
    expect(vk('define', xml).code).toBe(0);
    try {
      expect(vk('start', 'cli-cd').code).toBe(0);
      expect(vk('change-media', 'cli-cd', 'hdc', iso, '--insert').out).toBe('Successfully inserted media.\n\n');
      expect(vk('domblklist', 'cli-cd').out).toMatch(new RegExp(`hdc\\s+${iso}`));
      const again = vk('change-media', 'cli-cd', 'hdc', iso, '--insert');
      expect(again.err).toBe("error: The disk device 'hdc' already has media\n");
      expect(vk('change-media', 'cli-cd', 'hdc', '--eject').out).toBe('Successfully ejected media.\n\n');
      expect(vk('domblklist', 'cli-cd').out).toMatch(/hdc\s+-/);
    } finally {
      vk('destroy', 'cli-cd');
      vk('undefine', 'cli-cd');
    }
  }, 60_000);

  it('passes monitor commands to QEMU, and notices the state they change', () => {
    const xml = join(root, 'mon.xml');
    writeFileSync(xml, "<domain type='qemu'><name>cli-mon</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>");
    expect(vk('define', xml).code).toBe(0);
    try {
      expect(vk('start', 'cli-mon').code).toBe(0);
      expect(JSON.parse(vk('qemu-monitor-command', 'cli-mon', '{"execute":"query-status"}').out)).toMatchObject({ return: { status: 'running', running: true } });
      expect(vk('qemu-monitor-command', 'cli-mon', '--return-value', '{"execute":"query-name"}').out).toBe('{"name":"cli-mon"}\n\n');
      expect(vk('qemu-monitor-command', 'cli-mon', '--hmp', 'info', 'status').out).toMatch(/^VM status: running/);
      expect(JSON.parse(vk('qemu-monitor-command', 'cli-mon', '{"execute":"no-such-command"}').out)).toMatchObject({ error: { class: 'CommandNotFound' } });
      // Paused behind virtkit's back: the next command asks QEMU instead of trusting its record.
      expect(vk('qemu-monitor-command', 'cli-mon', '{"execute":"stop"}').code).toBe(0);
      expect(vk('domstate', 'cli-mon').out).toBe('paused\n\n');
      const ro = spawnSync(process.execPath, [bin, '-r', '-c', `qemu:///embed?root=${root}`, 'qemu-monitor-command', 'cli-mon', '{"execute":"cont"}']);
      expect(ro.status).toBe(1);
      expect(ro.stderr.toString()).toContain('read only access prevents virDomainQemuMonitorCommand');
    } finally {
      vk('destroy', 'cli-mon');
      vk('undefine', 'cli-mon');
    }
  }, 60_000);

  it('defines, starts, lists, reaches the prompt, suspends, hot-plugs a disk, saves and restores, destroys', async () => {
    const xml = join(root, 'guest.xml');
    writeFileSync(xml, testGuestDomainXml(guest, name));
    expect(vk('define', xml).code).toBe(0);
    const started = await consoleSession('echo $((20+22))', '42', ['start', name, '--console']);
    expect(started).toContain(`Domain '${name}' started`);
    expect(started).toContain('42');
    expect(vk('list').out).toMatch(new RegExp(`\\d+\\s+${name}\\s+running`));
    expect(vk('dominfo', name).out).toMatch(/State:\s+running/);
    expect(vk('domstats', name, '--state').out).toBe(`Domain: '${name}'\n  state.state=1\n  state.reason=1\n\n`);

    expect(vk('suspend', name).code).toBe(0);
    expect(vk('domstate', name, '--reason').out.trim()).toBe('paused (user)');
    expect(vk('resume', name).code).toBe(0);

    const img = join(root, 'data.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '16M']);
    const att = vk('attach-disk', name, img, 'vdb', '--subdriver', 'qcow2', '--live');
    expect(att.err).toBe('');
    expect(vk('domblklist', name).out).toMatch(/vdb\s+\S*data\.qcow2/);
    expect(await consoleSession('cat /sys/block/vda/size', '32768')).toContain('32768');
    // The guest probed the hot-plugged disk (its only one, vda inside): QEMU's counters, as virsh prints them.
    const blk = vk('domblkstat', name, 'vdb').out;
    expect(Number(/^vdb rd_req (\d+)$/m.exec(blk)?.[1])).toBeGreaterThan(0);
    expect(blk).toMatch(/^vdb flush_total_times \d+$/m);
    expect(vk('domblkinfo', name, 'vdb').out).toMatch(/^Capacity:\s+16777216\n/);
    expect(vk('domblkinfo', name, '--all').out).toMatch(/vdb\s+16777216/);

    const save = join(root, 'guest.save');
    expect(vk('save', name, save).code).toBe(0);
    expect(vk('domstate', name, '--reason').out.trim()).toBe('shut off (saved)');
    expect(vk('restore', save).code).toBe(0);
    expect(vk('domstate', name, '--reason').out.trim()).toBe('running (restored)');

    const native = vk('domxml-to-native', 'qemu-argv', xml);
    expect(native.out).toContain(`-name guest=${name},debug-threads=on`);

    expect(vk('destroy', name).code).toBe(0);
    expect(vk('undefine', name).code).toBe(0);
    expect(vk('list', '--all').out).not.toContain(name);
  }, 180_000);
});
