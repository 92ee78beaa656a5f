import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { BufferOutput } from '../output.js';

const dir = mkdtempSync(join(tmpdir(), 'vk-native-lxc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function vk(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = new BufferOutput();
  const code = await main(argv, o);
  return { code, out: o.stdout, err: o.stderr };
}

const cfg = join(dir, 'web.conf');
writeFileSync(
  cfg,
  [
    'lxc.uts.name = web',
    'lxc.rootfs.path = /srv/web/rootfs',
    'lxc.net.0.type = veth',
    'lxc.net.0.link = br0',
    'lxc.net.0.hwaddr = 02:00:00:aa:bb:cc',
    'lxc.net.0.flags = up',
    'lxc.mount.entry = tmpfs run tmpfs size=16m 0 0',
    'lxc.cgroup.memory.limit_in_bytes = 256M',
    '',
  ].join('\n'),
);

describe('domxml-from-native / domxml-to-native lxc-tools', () => {
  it('converts an LXC config to domain XML and back, without LXC running', async () => {
    const from = await vk('-c', 'test:///default', 'domxml-from-native', 'lxc-tools', cfg);
    expect(from.err).toBe('');
    expect(from.code).toBe(0);
    expect(from.out).toContain("<domain type='lxc'>");
    expect(from.out).toContain('<name>web</name>');
    expect(from.out).toContain("<source bridge='br0'/>");
    expect(from.out).toContain("<memory unit='KiB'>262144</memory>");
    const xml = join(dir, 'web.xml');
    writeFileSync(xml, from.out);
    const to = await vk('-c', 'test:///default', 'domxml-to-native', 'lxc-tools', xml);
    expect(to.code).toBe(0);
    expect(to.out).toContain('lxc.rootfs.path = dir:/srv/web/rootfs');
    expect(to.out).toContain('lxc.net.0.link = br0');
    expect(to.out).toContain('lxc.mount.entry = tmpfs run tmpfs size=16384k');
  });

  it('reports what it cannot convert', async () => {
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'lxc.uts.name = x\nlxc.rootfs.path = /r\nlxc.mount.fstab = /etc/fstab\n');
    const r = await vk('-c', 'test:///default', 'domxml-from-native', 'lxc-tools', bad);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/lxc\.mount\.entry/);
  });
});
