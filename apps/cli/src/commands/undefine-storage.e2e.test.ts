/** `undefine --storage` / `--remove-all-storage` / `--wipe-storage` on qemu:///embed: volumes in pools go, other files are reported and stay. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin.js');
const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64 && command -v qemu-img'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!haveQemu)('undefine with storage removal', () => {
  let root = '';
  const vk = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, '-c', `qemu:///embed?root=${root}`, ...args], { timeout: 60_000 });
    return { code: r.status ?? 1, out: r.stdout.toString(), err: r.stderr.toString() };
  };
  const defineWithDisks = (name: string, disks: Array<[string, string]>) => {
    const xml = join(root, `${name}.xml`);
    const devs = disks.map(([dev, file]) => `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${file}'/><target dev='${dev}' bus='virtio'/></disk>`).join('');
    writeFileSync(xml, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os><devices>${devs}</devices></domain>`);
    expect(vk('define', xml).code).toBe(0);
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'vkcli-undef-'));
    expect(vk('pool-define-as', 'p', 'dir', '--target', join(root, 'pool')).code).toBe(0);
    expect(vk('pool-build', 'p').code).toBe(0);
    expect(vk('pool-start', 'p').code).toBe(0);
  });

  afterAll(() => {
    vk('pool-destroy', 'p');
    vk('pool-undefine', 'p');
    rmSync(root, { recursive: true, force: true });
  });

  it('removes the pool volumes of every disk, reports the others and keeps them', () => {
    expect(vk('vol-create-as', 'p', 'a.qcow2', '16M', '--format', 'qcow2').code).toBe(0);
    const outside = join(root, 'outside.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', outside, '16M']);
    const inPool = join(root, 'pool', 'a.qcow2');
    defineWithDisks('g1', [['vda', inPool], ['vdb', outside]]);
    const r = vk('undefine', 'g1', '--remove-all-storage', '--wipe-storage');
    expect(r.code).toBe(0);
    expect(r.err).toBe(`error: Storage volume 'vdb'(${outside}) is not managed by virtkit. Remove it manually.\n`);
    expect(r.out).toBe(`Domain 'g1' has been undefined\nWiping volume 'vda'(${inPool}) ... Done.\nVolume 'vda'(${inPool}) removed.\n\n`);
    expect(existsSync(inPool)).toBe(false);
    expect(existsSync(outside)).toBe(true);
    expect(vk('list', '--all', '--name').out).not.toContain('g1');
  });

  it('removes only the volumes named by --storage, and refuses an unknown one before undefining', () => {
    for (const v of ['b.qcow2', 'c.qcow2']) expect(vk('vol-create-as', 'p', v, '16M', '--format', 'qcow2').code).toBe(0);
    const b = join(root, 'pool', 'b.qcow2');
    const c = join(root, 'pool', 'c.qcow2');
    defineWithDisks('g2', [['vda', b], ['vdb', c]]);
    const bad = vk('undefine', 'g2', '--storage', 'vdz');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("Volume 'vdz' was not found in domain's definition.");
    expect(vk('list', '--all', '--name').out).toContain('g2');
    const r = vk('undefine', 'g2', '--storage', `vda,${c}`);
    expect(r.code).toBe(0);
    expect(existsSync(b) || existsSync(c)).toBe(false);
  });

  it('refuses to remove the storage of a running domain', () => {
    defineWithDisks('g3', []);
    expect(vk('start', 'g3').code).toBe(0);
    try {
      const r = vk('undefine', 'g3', '--remove-all-storage');
      expect(r.code).toBe(1);
      expect(r.err).toContain('Storage volume deletion is supported only on stopped domains');
    } finally {
      vk('destroy', 'g3');
      vk('undefine', 'g3');
    }
  });
});
