/**
 * The Xen driver against an xl STAND-IN (test/xl-stand-in.mjs): a script
 * that answers xl's commands with xl's output formats and error messages
 * and keeps a fake host's domains in a temporary folder. These tests prove
 * which xl commands the driver runs and that it reads xl's output; they do
 * not run Xen, which cannot run on these machines.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, PluginLoader, VirtError, type VirtEvent } from '@virtkit/core';
import { runDriverTestkit } from '@virtkit/driver-testkit';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const standIn = join(pkgDir, 'test', 'xl-stand-in.mjs');
const root = mkdtempSync(join(tmpdir(), 'virtkit-xen-'));
const xlState = join(root, 'xl-host');
process.env.VIRTKIT_XL = standIn;
process.env.XL_STANDIN_DIR = xlState;
process.env.VIRTKIT_XEN_POLL_MS = '200';

const loader = new PluginLoader({ roots: [], pluginPath: pkgDir });
const uri = `xen:///embed?root=${join(root, 'state')}`;
const open = (readonly = false) => Connection.open(uri, { loader, readonly });

const domainXml = (name: string, uuid?: string) =>
  `<domain type='xen'><name>${name}</name>${uuid ? `<uuid>${uuid}</uuid>` : ''}<memory unit='MiB'>128</memory><vcpu>1</vcpu>` +
  `<os><type>linux</type><kernel>/boot/vmlinuz-guest</kernel><cmdline>console=hvc0</cmdline></os>` +
  `<devices><disk type='file' device='disk'><source file='/var/lib/xen/images/guest.img'/><target dev='xvda' bus='xen'/></disk>` +
  `<interface type='bridge'><mac address='00:16:3e:12:34:56'/><source bridge='xenbr0'/></interface></devices></domain>`;

/** The xl commands the stand-in received, in order. */
function calls(): string[][] {
  return readFileSync(join(xlState, 'calls.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
}

/** The last xl command with this name the stand-in received. */
function last(cmd: string): string[] | undefined {
  return calls().filter((c) => c[0] === cmd).pop();
}

function xl(...args: string[]): string {
  return execFileSync(standIn, args, { env: process.env, encoding: 'utf8' });
}

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

runDriverTestkit({
  name: 'xen (xl stand-in)',
  open: () => open(),
  openReadonly: () => open(true),
  domainXml,
  prefix: `vkxen${process.pid}`,
});

describe('xen driver with the xl stand-in', () => {
  let conn: Connection;
  const seen: VirtEvent[] = [];
  beforeAll(async () => {
    conn = await open();
    conn.on('*', (e) => seen.push(e));
  });
  afterAll(async () => {
    await conn?.close();
  });

  async function waitFor(pred: (e: VirtEvent) => boolean, ms = 5000): Promise<VirtEvent> {
    const end = Date.now() + ms;
    for (;;) {
      const e = seen.find(pred);
      if (e) return e;
      if (Date.now() > end) throw new Error(`no such event; saw ${seen.map((x) => JSON.stringify(x)).join(' ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('answers host questions from xl info (stand-in)', async () => {
    expect(await conn.getVersion()).toEqual({ hypervisor: 'Xen', version: '4.17.3' });
    expect(await conn.getNodeInfo()).toMatchObject({ model: 'x86_64', cpus: 4, mhz: 2400, memoryKiB: 16384 * 1024, cores: 2, threads: 2 });
    const caps = await conn.getCapabilities();
    expect(caps).toContain('<os_type>hvm</os_type>');
    expect(caps).toContain('<os_type>xenpvh</os_type>');
    expect(caps).toContain("<domain type='xen'");
  });

  it('starts a guest with xl create from its xl.cfg and lists it from xl list (stand-in)', async () => {
    const d = await conn.defineDomainXml(domainXml('cfg-guest'));
    await d.start();
    const create = calls().filter((c) => c[0] === 'create').pop()!;
    expect(create).toEqual(['create', join(root, 'state', 'run', 'libxl', 'cfg-guest.cfg')]);
    const domid = Number(xl('domid', 'cfg-guest').trim());
    expect(d.id).toBe(domid);
    const listed = JSON.parse(xl('list', '-l')) as Array<{ domid: number; config: { c_info: { uuid: string }; b_info: { max_memkb: number } } }>;
    const mine = listed.find((x) => x.domid === domid)!;
    expect(mine.config.c_info.uuid).toBe(d.uuid);
    expect(mine.config.b_info.max_memkb).toBe(131072);
    const xml = await d.getXmlDesc();
    expect(xml).toMatch(new RegExp(`^<domain type='xen' id='${domid}'>`));
    await d.destroy();
    expect(last('destroy')).toEqual(['destroy', String(domid)]);
    await d.undefine();
  });

  it('pauses, resumes, reboots and shuts down through xl (stand-in)', async () => {
    const d = await conn.defineDomainXml(domainXml('ops-guest'));
    await d.start();
    const id1 = d.id;
    await d.suspend();
    expect(last('pause')).toEqual(['pause', String(id1)]);
    expect(xl('list', String(id1))).toMatch(/--p---/);
    await d.resume();
    expect(last('unpause')).toEqual(['unpause', String(id1)]);
    await d.reboot();
    expect(calls().some((c) => c[0] === 'reboot' && c[1] === String(id1))).toBe(true);
    const again = await conn.lookupDomainByName('ops-guest');
    expect(again.id).not.toBe(id1);
    await again.shutdown({ waitMs: 5000 });
    expect((await again.getState()).state).toBe('shutoff');
    await again.undefine();
  });

  it('sets vCPUs and memory live with xl vcpu-set / mem-set and in the definition (stand-in)', async () => {
    const xmlMax = domainXml('tune-guest').replace("<vcpu>1</vcpu>", "<vcpu current='1'>4</vcpu>");
    const d = await conn.defineDomainXml(xmlMax);
    await d.start();
    await d.setVcpus(3, { live: true });
    expect(last('vcpu-set')).toEqual(['vcpu-set', String(d.id), '3']);
    expect((await d.getInfo()).vcpus).toBe(3);
    await d.setMemory(65536, { live: true });
    expect(last('mem-set')).toEqual(['mem-set', String(d.id), '65536k']);
    expect((await d.getInfo()).memoryKiB).toBe(65536);
    await expect(d.setVcpus(9, { live: true })).rejects.toMatchObject({ code: 'INVALID_ARG' });
    await d.setVcpus(2, { config: true });
    expect(await d.getXmlDesc({ inactive: true })).toContain("<vcpu placement='static' current='2'>4</vcpu>");
    await d.destroy();
    await d.undefine();
  });

  it('hot-plugs disks and NICs with xl block-/network-attach and -detach (stand-in)', async () => {
    const d = await conn.defineDomainXml(domainXml('plug-guest'));
    await d.start();
    const disk = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/xen/images/extra.qcow2'/><target dev='xvdb' bus='xen'/></disk>";
    await d.attachDevice(disk);
    expect(last('block-attach')).toEqual(['block-attach', String(d.id), 'format=qcow2,vdev=xvdb,access=rw,backendtype=qdisk,target=/var/lib/xen/images/extra.qcow2']);
    expect(xl('block-list', String(d.id))).toMatch(/^xvdb /m);
    expect(await d.getXmlDesc()).toContain("<target dev='xvdb' bus='xen'/>");
    await d.detachDevice(disk);
    expect(last('block-detach')).toEqual(['block-detach', String(d.id), 'xvdb']);
    const nic = "<interface type='bridge'><mac address='00:16:3e:aa:bb:cc'/><source bridge='xenbr1'/></interface>";
    await d.attachDevice(nic);
    expect(last('network-attach')).toEqual(['network-attach', String(d.id), 'mac=00:16:3e:aa:bb:cc,bridge=xenbr1,script=vif-bridge']);
    await d.detachDevice(nic);
    expect(last('network-detach')).toEqual(['network-detach', String(d.id), '00:16:3e:aa:bb:cc']);
    await expect(d.detachDevice(nic)).rejects.toMatchObject({ code: 'NO_DEVICE' });
    await d.destroy();
    await d.undefine();
  });

  it('migrates with xl migrate -C to the destination host (stand-in)', async () => {
    const d = await conn.defineDomainXml(domainXml('mig-guest'));
    await d.start();
    const id = d.id;
    await d.migrate('xen+ssh://root@dest.example/system');
    const m = calls().filter((c) => c[0] === 'migrate').pop()!;
    expect(m).toEqual(['migrate', '-C', join(root, 'state', 'run', 'libxl', 'mig-guest.cfg'), String(id), 'root@dest.example']);
    expect((await d.getState()).state).toBe('shutoff');
    await waitFor((e) => e.kind === 'domain' && e.domain.name === 'mig-guest' && e.type === 'stopped' && e.detail === 'migrated');
    await d.undefine();
  });

  it('reports guests that change behind its back as events, by watching xl list (stand-in)', async () => {
    const d = await conn.defineDomainXml(domainXml('watch-guest'));
    await d.start();
    await new Promise((r) => setTimeout(r, 500));
    xl('pause', String(d.id));
    await waitFor((e) => e.kind === 'domain' && e.domain.name === 'watch-guest' && e.type === 'suspended');
    xl('destroy', String(d.id));
    await waitFor((e) => e.kind === 'domain' && e.domain.name === 'watch-guest' && e.type === 'stopped');
    expect((await d.getState()).state).toBe('shutoff');
    await d.undefine();
  });

  it('maps xl errors for unknown domains to NO_DOMAIN (stand-in)', async () => {
    const d = await conn.defineDomainXml(domainXml('gone-guest'));
    await d.start();
    const id = d.id;
    // Someone else destroys it between our lookup and our command.
    xl('destroy', String(id));
    await expect(d.suspend()).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
    const { XlRunner } = await import('./xl/runner.js');
    const r = new XlRunner({ path: standIn });
    await expect(r.run(['pause', 'no-such-guest'], 'pause')).rejects.toMatchObject({ code: 'NO_DOMAIN' });
    await expect(r.run(['list', '4242'], 'list')).rejects.toMatchObject({ code: 'NO_DOMAIN' });
    await d.undefine();
  });

  it('converts to and from xen-xl through the connection', async () => {
    const cfg = await conn.domainXmlToNative('xen-xl', domainXml('native-guest'));
    expect(cfg).toContain('name = "native-guest"');
    expect(cfg).toContain('kernel = "/boot/vmlinuz-guest"');
    const back = await conn.domainXmlFromNative('xen-xl', cfg);
    expect(back).toContain('<name>native-guest</name>');
    await expect(conn.domainXmlToNative('qemu-argv', domainXml('x'))).rejects.toBeInstanceOf(VirtError);
  });
});

describe('opening xen:///system without a Xen hypervisor', () => {
  it('fails with NO_CONNECT naming the reason when xl cannot reach a hypervisor (stand-in in no-hypervisor mode)', async () => {
    process.env.XL_STANDIN_NO_HYPERVISOR = '1';
    try {
      await expect(open()).rejects.toMatchObject({ code: 'NO_CONNECT', message: expect.stringMatching(/no running Xen hypervisor answers .*cannot init xl context/) });
    } finally {
      delete process.env.XL_STANDIN_NO_HYPERVISOR;
    }
  });

  it('fails with NO_CONNECT when there is no xl at all (this host)', async () => {
    const saved = process.env.VIRTKIT_XL;
    const savedPath = process.env.PATH;
    delete process.env.VIRTKIT_XL;
    process.env.PATH = '/nonexistent';
    try {
      const err = await Connection.open('xen:///system', { loader }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VirtError);
      expect((err as VirtError).code).toBe('NO_CONNECT');
      expect((err as VirtError).message).toMatch(/xen:\/\/\/system/);
    } finally {
      process.env.VIRTKIT_XL = saved;
      process.env.PATH = savedPath;
    }
  });
});
