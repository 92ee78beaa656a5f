import { join } from 'node:path';
import { formatDomainXml, parseDomainXml, VirtError, sharedDataDir } from '@virtkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLibvirtCapsDump } from '../caps/from-xml.js';
import type { QemuCapabilities } from '../caps/capabilities.js';
import { defaultQemuDriverConfig } from '../defaults/config.js';
import { qemuParserConfig } from '../defaults/parser-config.js';
import { formatQemuArgs, shellQuote } from './argv.js';
import { buildQemuCommandLine, domainXmlToQemuArgv } from './build.js';
import { QemuDeviceBuilder, hotpluggableCpuProps } from './devices.js';
import { diskRemovalNames } from './disk-nodes.js';
import type { DeviceParts } from './parts.js';
import { escapeComma, props, toJson } from './json.js';

const DUMP_DIR = sharedDataDir('conformance/qemu-argv');

const DOMAIN = `<domain type='qemu'>
  <name>demo</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/images/demo.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><mac address='52:54:00:12:34:56'/><model type='virtio'/></interface>
    <serial type='pty'/>
    <graphics type='vnc' autoport='yes'/>
  </devices>
</domain>`;

describe('JSON and argv helpers', () => {
  it('leaves out undefined properties and keeps insertion order', () => {
    expect(toJson(props([['driver', 'virtio-blk-pci'], ['bus', undefined], ['addr', '0x2']]))).toBe('{"driver":"virtio-blk-pci","addr":"0x2"}');
  });
  it('prints 64-bit values exactly', () => {
    expect(toJson({ wwn: 5764824127192592812n })).toBe('{"wwn":5764824127192592812}');
  });
  it('doubles commas in option values', () => {
    expect(escapeComma('/a,b')).toBe('/a,,b');
  });
  it("prints libvirt's .args layout", () => {
    const text = formatQemuArgs({ env: [['LC_ALL', 'C']], binary: '/usr/bin/qemu-system-x86_64', args: ['-S', '-device', '{"a":1}', '-no-acpi'] });
    expect(text).toBe("LC_ALL=C \\\n/usr/bin/qemu-system-x86_64 \\\n-S \\\n-device '{\"a\":1}' \\\n-no-acpi\n");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});

describe.skipIf(!DUMP_DIR)('command line for QEMU 8.0 capabilities', () => {
  let caps: QemuCapabilities;
  beforeAll(async () => {
    caps = await loadLibvirtCapsDump(join(DUMP_DIR!, 'caps_8.0.0.x86_64.xml'), join(DUMP_DIR!, 'caps_8.0.0.x86_64.replies'));
  });

  it('fills in the QEMU defaults at define time', () => {
    const config = qemuParserConfig(caps);
    const def = parseDomainXml(DOMAIN, { inactive: true, config });
    expect(def.os.machine).toBe('pc-i440fx-8.0');
    const xml = formatDomainXml(def, { inactive: true, config });
    expect(xml).toContain("<controller type='usb' index='0' model='piix3-uhci'>");
    expect(xml).toContain("<memballoon model='virtio'>");
    expect(xml).toContain("<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>");
  });

  it('builds blockdev, netdev and device options', () => {
    const config = defaultQemuDriverConfig({ libDir: '/run/test' });
    const cmd = domainXmlToQemuArgv(DOMAIN, caps, {
      config, now: () => 0, allocatePort: () => 5901, env: { PATH: '/bin', USER: 'u', LOGNAME: 'u' },
    });
    const a = cmd.args;
    const after = (opt: string) => a.filter((_, i) => a[i - 1] === opt);
    expect(cmd.env).toContainEqual(['HOME', '/run/test/domain--1-demo']);
    expect(after('-machine')[0]).toBe('pc-i440fx-8.0,usb=off,dump-guest-core=off,memory-backend=pc.ram');
    expect(after('-blockdev')).toEqual([
      '{"driver":"file","filename":"/var/lib/images/demo.qcow2","node-name":"libvirt-1-storage","auto-read-only":true,"discard":"unmap"}',
      '{"node-name":"libvirt-1-format","read-only":false,"driver":"qcow2","file":"libvirt-1-storage"}',
    ]);
    expect(after('-netdev')).toEqual(['{"type":"user","id":"hostnet0"}']);
    expect(after('-vnc')).toEqual(['127.0.0.1:1,audiodev=audio1']);
    expect(after('-chardev')).toContain('pty,id=charserial0');
    expect(a.at(-2)).toBe('-msg');
  });

  it('encrypts secrets with the master key', () => {
    const xml = DOMAIN.replace(
      "<source file='/var/lib/images/demo.qcow2'/>",
      "<source file='/var/lib/images/demo.qcow2'><encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption></source>",
    );
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const iv = Uint8Array.from({ length: 16 }, (_, i) => i);
    const cmd = domainXmlToQemuArgv(xml, caps, { masterKey: key, secretIv: () => iv, lookupSecret: () => 'AQCVn5hO6HzFAhAAq0NCv8jtJcIcE+HOBlMQ1A' });
    const secret = cmd.args.find((x) => x.includes('"qom-type":"secret","id":"libvirt-1-format-encryption-secret0"'));
    expect(JSON.parse(secret!)).toMatchObject({ data: '9eao5F8qtkGt+seB1HYivWIxbtwUu6MQtg1zpj/oDtUsPr1q8wBYM91uEHCn6j/1', keyid: 'masterKey0', iv: 'AAECAwQFBgcICQoLDA0ODw==' });
  });

  it('refuses what QEMU cannot run', () => {
    const bad = DOMAIN.replace("<target dev='vda' bus='virtio'/>", "<target dev='vda1' bus='virtio'/>");
    expect(() => parseDomainXml(bad, { inactive: true, config: qemuParserConfig(caps) })).toThrow(/partitions can't appear in disk targets/);
    const hvf = DOMAIN.replace("type='qemu'", "type='hvf'");
    expect(() => parseDomainXml(hvf, { inactive: true, config: qemuParserConfig(caps) })).toThrow(VirtError);
  });

  it('opens tap NICs from the descriptors given, else by name', () => {
    const def = () => parseDomainXml(DOMAIN.replace("<interface type='user'>", "<interface type='network'><source network='default'/>"), {
      inactive: true, config: qemuParserConfig(caps),
    });
    const netdevs = (args: string[]) => args.filter((_, i) => args[i - 1] === '-netdev');
    const fds = buildQemuCommandLine(def(), caps, {
      fakeFds: { monitor: 10, chardevListen: 10, vhostUserGpu: 10, chardevFile: 11, chardevLog: 12, tpm: 13, tpmCancel: 14, vdpa: 15, tapStart: 20, vhostNetStart: 30, vsockVhost: 40 },
    });
    expect(netdevs(fds.args)).toEqual(['{"type":"tap","fd":"20","id":"hostnet0"}']);
    // A pretend start (domxml-to-native) names the tap a start would create.
    expect(netdevs(buildQemuCommandLine(def(), caps).args)).toEqual(['{"type":"tap","ifname":"vnet0","script":"no","downscript":"no","id":"hostnet0"}']);
    // A real start needs the tap the driver created.
    expect(() => buildQemuCommandLine(def(), caps, { domainId: 4 })).toThrow(/tap device/);
    const named = def();
    named.devices.interfaces[0]!.ifname = 'vk-tap7';
    expect(netdevs(buildQemuCommandLine(named, caps, { domainId: 4 }).args)).toEqual(['{"type":"tap","ifname":"vk-tap7","script":"no","downscript":"no","id":"hostnet0"}']);
  });

  it('puts the monitor on a passed descriptor and leaves out -no-shutdown on request', () => {
    const std = domainXmlToQemuArgv(DOMAIN, caps).args;
    expect(std).toContain('-no-shutdown');
    expect(std.find((x) => x.startsWith('socket,id=charmonitor,'))).toMatch(/path=.*monitor\.sock,server=on,wait=off$/);
    const rt = domainXmlToQemuArgv(DOMAIN, caps, { monitorFd: 3, noShutdown: false }).args;
    expect(rt).not.toContain('-no-shutdown');
    expect(rt).toContain('socket,id=charmonitor,fd=3,server=on,wait=off');
  });

  it('gives hot-plug the parts the command line has for the same device', () => {
    const xml = DOMAIN.replace('<vcpu>', "<maxMemory slots='4' unit='MiB'>1024</maxMemory><vcpu>").replace(
      '</devices>',
      "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory></devices>",
    ).replace('<vcpu>2</vcpu>', "<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='256' unit='MiB'/></numa></cpu>");
    const def = parseDomainXml(xml, { inactive: true, config: qemuParserConfig(caps) });
    def.os.bootDevs = []; // <boot dev> gives the first disk a boot index at start only
    const cmd = buildQemuCommandLine(def, caps).args;
    // def now holds what the start decided (aliases, addresses), as a live definition does.
    const b = new QemuDeviceBuilder(def, caps, { firstNodeIndex: 1 });
    const asArgs = (p: DeviceParts) => [...p.backends.flatMap((x) => [x.option, 'props' in x ? toJson(x.props) : x.text]), '-device', toJson(p.device)];
    const contains = (part: string[]) => cmd.some((_, i) => part.every((x, j) => cmd[i + j] === x));
    for (const part of [asArgs(b.disk(def.devices.disks[0]!)), asArgs(b.nic(def.devices.interfaces[0]!)), asArgs(b.memory(def.devices.memories[0]!))]) {
      expect(part.length).toBeGreaterThan(2);
      expect(contains(part)).toBe(true);
    }
    expect(hotpluggableCpuProps({ type: 'qemu64-x86_64-cpu', props: { 'socket-id': 1, 'core-id': 0, 'thread-id': 0 } }, 1)).toEqual({
      driver: 'qemu64-x86_64-cpu', id: 'vcpu1', 'socket-id': 1, 'core-id': 0, 'thread-id': 0,
    });
  });

  it('records each image\'s node index and names for the unplug every node and object a disk\'s parts created', () => {
    const xml = DOMAIN.replace(
      '</devices>',
      `<disk type='file' device='disk'><driver name='qemu' type='qcow2' copy_on_read='on'/><source file='/i/top.qcow2'/>
        <backingStore type='file'><format type='qcow2'/><source file='/i/mid.qcow2'/>
          <backingStore type='file'><format type='raw'/><source file='/i/base.raw'><slice type='storage' offset='512' size='1048576'/></source></backingStore>
        </backingStore>
        <target dev='vdb' bus='virtio'/></disk></devices>`,
    );
    const def = parseDomainXml(xml, { inactive: true, config: qemuParserConfig(caps) });
    buildQemuCommandLine(def, caps);
    const disk = def.devices.disks.find((x) => x.dst === 'vdb')!;
    const parts = new QemuDeviceBuilder(def, caps, { firstNodeIndex: 7 }).disk(disk);
    expect([disk.src.index, disk.src.backingStore?.index, disk.src.backingStore?.backingStore?.index]).toEqual([7, 8, 9]);
    const created = parts.backends.flatMap((p) => ('props' in p && p.option === '-blockdev' ? [String(p.props['node-name'])] : []));
    const removal = diskRemovalNames(disk);
    expect([...removal.nodes].sort()).toEqual([...created].sort());
    // Parents before children: the copy-on-read layer, then each image from the top.
    expect(removal.nodes).toEqual(['libvirt-CoR-vdb', 'libvirt-7-format', 'libvirt-7-storage', 'libvirt-8-format', 'libvirt-8-storage', 'libvirt-9-format', 'libvirt-9-storage']);
    // Without recorded indexes (a live XML from before), a top index numbers the chain as the builder does.
    const bare = structuredClone(disk);
    for (let n: typeof bare.src | null | undefined = bare.src; n; n = n.backingStore) delete n.index;
    expect(diskRemovalNames(bare, { topIndex: 7 }).nodes).toEqual(removal.nodes);
    expect(diskRemovalNames(bare).nodes).toEqual(['libvirt-CoR-vdb']);
  });

  it('names the secrets of an encrypted image with its nodes', () => {
    const xml = DOMAIN.replace(
      "<source file='/var/lib/images/demo.qcow2'/>",
      "<source file='/var/lib/images/demo.qcow2'><encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption></source>",
    );
    const def = parseDomainXml(xml, { inactive: true, config: qemuParserConfig(caps) });
    const lookupSecret = () => 'c2VjcmV0';
    buildQemuCommandLine(def, caps, { lookupSecret });
    const parts = new QemuDeviceBuilder(def, caps, { firstNodeIndex: 3, lookupSecret }).disk(def.devices.disks[0]!);
    const objects = parts.backends.flatMap((p) => ('props' in p && p.option === '-object' ? [String(p.props.id)] : []));
    expect(objects).toEqual(['libvirt-3-format-encryption-secret0']);
    expect(diskRemovalNames(def.devices.disks[0]!).objects).toEqual(objects);
  });
});
