import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { BufferOutput } from '../output.js';

const dir = mkdtempSync(join(tmpdir(), 'vk-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function vk(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = new BufferOutput();
  const code = await main(argv, o);
  return { code, out: o.stdout, err: o.stderr };
}

const cfg = join(dir, 'guest.cfg');
writeFileSync(
  cfg,
  [
    'name = "pvguest"',
    'uuid = "8f4d3f4a-1d2b-4c3e-9a55-0a7c2f1e9b10"',
    'memory = 512',
    'vcpus = 2',
    'kernel = "/boot/vmlinuz"',
    'extra = "console=hvc0"',
    'root = "/dev/xvda1"',
    'vif = [ "mac=00:16:3e:01:02:03,bridge=xenbr0" ]',
    'disk = [ "/srv/pv.img,raw,xvda,rw" ]',
    '',
  ].join('\n'),
);

describe('domxml-to-native / domxml-from-native xen-xl without a Xen host', () => {
  it('converts xl.cfg to domain XML and back, offline', async () => {
    const from = await vk('-c', 'xen:///system', 'domxml-from-native', 'xen-xl', cfg);
    expect(from.err).toBe('');
    expect(from.code).toBe(0);
    expect(from.out).toContain("<type arch='x86_64' machine='xenpv'>linux</type>");
    expect(from.out).toContain('<cmdline>root=/dev/xvda1 console=hvc0</cmdline>');
    expect(from.out).toContain("<source file='/srv/pv.img'/>");
    const xml = join(dir, 'guest.xml');
    writeFileSync(xml, from.out);
    const to = await vk('-c', 'xen:///system', 'domxml-to-native', 'xen-xl', xml);
    expect(to.code).toBe(0);
    expect(to.out).toContain('cmdline = "root=/dev/xvda1 console=hvc0"');
    expect(to.out).toContain('disk = [ "format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=/srv/pv.img" ]');
  });

  it('uses the offline converter when the connection belongs to another driver', async () => {
    const r = await vk('-c', 'test:///default', 'domxml-from-native', 'xen-xl', cfg);
    expect(r.code).toBe(0);
    expect(r.out).toContain('<name>pvguest</name>');
  });

  it('reports a bad config with the cause', async () => {
    const bad = join(dir, 'bad.cfg');
    writeFileSync(bad, 'name = "x"\nvif = [ "mac=zz" ]\n');
    const r = await vk('-c', 'test:///default', 'domxml-from-native', 'xen-xl', bad);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/malformed mac address 'zz'/);
  });
});
