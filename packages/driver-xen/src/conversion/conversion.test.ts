import { describe, expect, it } from 'vitest';
import { VirtError } from '@virtkit/core';
import { domainXmlToXl, xlToDomainDef, xlToDomainXml } from './index.js';

const hvmBase = [
  'name = "hvm1"',
  'uuid = "3b0c9a53-55a2-4a7c-9d2c-6f6e7c0d2a11"',
  'maxmem = 2048',
  'memory = 1024',
  'vcpus = 2',
  'builder = "hvm"',
  'device_model_override = "/usr/lib/xen/bin/qemu-system-i386"',
];

function cfg(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

describe('xl.cfg → domain XML', () => {
  it('keeps maxvcpus above the online count and pins vCPUs', () => {
    const def = xlToDomainDef(cfg('name = "pv1"', 'maxvcpus = 8', 'vcpus = 4', 'cpus = "0-3,^2"', 'kernel = "/k"'));
    expect(def.vcpu).toMatchObject({ max: 8, current: 4, cpuset: [0, 1, 3] });
    expect(xlToDomainXml(cfg('name = "pv1"', 'maxvcpus = 8', 'vcpus = 4', 'kernel = "/k"'))).toContain("<vcpu placement='static' current='4'>8</vcpu>");
  });

  it('reads PCI passthrough with the permissive flag as write filtering', () => {
    const xml = xlToDomainXml(cfg(...hvmBase, 'pci = [ "0000:01:1a.1", "02:00.0,permissive=1", "0001:03:04.5,permissive=0" ]'));
    expect(xml).toContain("<address domain='0x0000' bus='0x01' slot='0x1a' function='0x1'/>");
    expect(xml).toContain("<source writeFiltering='no'>\n        <address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>");
    expect(xml).toContain("<source writeFiltering='yes'>\n        <address domain='0x0001' bus='0x03' slot='0x04' function='0x5'/>");
    expect(xml).toContain("<driver name='xen'/>");
    const back = domainXmlToXl(xml);
    expect(back).toContain('pci = [ "0000:01:1a.1", "0000:02:00.0,permissive=1", "0001:03:04.5,permissive=0" ]');
  });

  it('reads the hpet timer, sound cards, a parallel port and a TCP serial port', () => {
    const xml = xlToDomainXml(cfg(...hvmBase, 'hpet = 0', 'soundhw = "ac97,es1370"', 'parallel = "file:/tmp/lp"', 'serial = "tcp:127.0.0.1:7777,server,nowait"'));
    expect(xml).toContain("<timer name='hpet' present='no'/>");
    expect(xml).toContain("<sound model='ac97'/>");
    expect(xml).toContain("<sound model='es1370'/>");
    const back = domainXmlToXl(xml);
    expect(back).toContain('hpet = 0');
    expect(back).toContain('soundhw = "ac97,es1370"');
    expect(back).toContain('parallel = "file:/tmp/lp"');
    expect(back).toContain('serial = "tcp:127.0.0.1:7777,server,nowait"');
  });

  it('keeps only SPICE when a config enables both VNC and SPICE, as libvirt does', () => {
    const def = xlToDomainDef(cfg(...hvmBase, 'vnc = 1', 'spice = 1', 'spicedisable_ticketing = 1'));
    expect(def.devices.graphics.map((g) => g.type)).toEqual(['spice']);
    const xml = xlToDomainXml(cfg(...hvmBase, 'spice = 1', 'spicehost = "0.0.0.0"', 'spiceport = 5910', 'spicedisable_ticketing = 1'));
    expect(xml).toContain("<graphics type='spice' port='5910' autoport='no' listen='0.0.0.0'>");
    expect(xml).toContain("<mouse mode='server'/>");
    expect(xml).toContain("<clipboard copypaste='no'/>");
    expect(domainXmlToXl(xml)).toContain('spicedisable_ticketing = 1\nspiceagent_mouse = 0\n');
  });

  it('reads vNUMA with full distance rows and writes the same rows back', () => {
    const vnuma = 'vnuma = [ [ "pnode=0", "size=1024", "vcpus=0", "vdistances=10,20" ], [ "pnode=1", "size=1024", "vcpus=1", "vdistances=20,10" ] ]';
    const xml = xlToDomainXml(cfg(...hvmBase, vnuma));
    expect(xml).toContain("<cell id='1' cpus='1' memory='1048576' unit='KiB'>");
    expect(xml).toContain("<sibling id='1' value='10'/>");
    expect(xml).toContain("<memory unit='KiB'>2097152</memory>");
    expect(domainXmlToXl(xml)).toContain(vnuma);
    expect(() => xlToDomainDef(cfg(...hvmBase, 'vnuma = [ [ "pnode=0", "size=1024" ] ]'))).toThrow(/Incomplete vnuma configuration/);
  });

  it('reads PV VFBs, bootloader arguments and `type = "pv"`', () => {
    const xml = xlToDomainXml(cfg('name = "pv2"', 'type = "pv"', 'bootloader = "pygrub"', 'bootargs = "--entry=1"', 'vfb = [ "type=vnc,vncdisplay=3,vnclisten=0.0.0.0,keymap=de" ]'));
    expect(xml).toContain("<type arch='x86_64' machine='xenpv'>linux</type>");
    expect(xml).toContain('<bootloader_args>--entry=1</bootloader_args>');
    expect(xml).toContain("<graphics type='vnc' port='5903' autoport='no' listen='0.0.0.0' keymap='de'>");
    expect(xml).toContain("<model type='xen' vram='4096' heads='1' primary='yes'/>");
    expect(domainXmlToXl(xml)).toContain('vfb = [ "type=vnc,vncunused=0,vncdisplay=3,vnclisten=0.0.0.0,keymap=de" ]');
  });

  it('names what is wrong in a bad config', () => {
    const bad: Array<[string, RegExp]> = [
      [cfg('uuid = "x"'), /config value name was missing/],
      [cfg('name = "a"', 'uuid = "nope"'), /nope not parseable/],
      [cfg('name = "a"', 'type = "kvm"'), /type kvm is not supported/],
      [cfg('name = "a"', 'on_crash = "explode"'), /unexpected value explode for on_crash/],
      [cfg('name = "a"', 'memory = "lots"'), /config value memory was malformed/],
      [cfg('name = "a"', 'builder = "hvm"', 'passthrough = "maybe"'), /Invalid passthrough mode maybe/],
      [cfg('name = "a"', 'cpuid = "intel,sse3=1"'), /cpuid starting with intel is not supported/],
      [cfg('name = "a"', 'disk = [ "/x,,xvda,bad" ]'), /unknown value for access/],
      [cfg('name = "a" "b"'), /expecting a separator/],
    ];
    for (const [text, re] of bad) {
      let err: unknown;
      try {
        xlToDomainDef(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(VirtError);
      expect((err as Error).message, text).toMatch(re);
    }
  });
});

describe('domain XML → xl.cfg', () => {
  const hvm = (devices: string, extra = '') =>
    `<domain type='xen'><name>x</name><uuid>3b0c9a53-55a2-4a7c-9d2c-6f6e7c0d2a11</uuid><memory unit='MiB'>512</memory><vcpu>1</vcpu>` +
    `<os><type arch='x86_64' machine='xenfv'>hvm</type><boot dev='network'/><boot dev='hd'/></os>${extra}<devices>${devices}</devices></domain>`;

  it('writes boot order, clock and SDL', () => {
    const out = domainXmlToXl(hvm("<graphics type='sdl' display=':0' xauth='/root/.Xauthority'/>", "<clock offset='localtime'/>"));
    expect(out).toContain('boot = "nc"');
    expect(out).toContain('rtc_timeoffset = 0\nlocaltime = 1\n');
    expect(out).toContain('sdl = 1\nvnc = 0\ndisplay = ":0"\nxauthority = "/root/.Xauthority"\n');
  });

  it('refuses what xl.cfg cannot express, naming the domain', () => {
    expect(() => domainXmlToXl(hvm('', "<clock offset='utc' adjustment='reset'/>"))).toThrow(/domain 'x': unsupported clock adjustment='reset'/);
    expect(() => domainXmlToXl(hvm('', "<clock offset='utc'><timer name='rtc'/></clock>"))).toThrow(/unsupported timer type \(name\) 'rtc'/);
    expect(() => domainXmlToXl(hvm("<disk type='file' device='disk'><source file='/x'/><target dev='hda'/><transient/></disk>"))).toThrow(/transient disks/);
    expect(() => domainXmlToXl(hvm("<interface type='user'/>"))).toThrow(/Unsupported net type 'user'/);
    expect(() => domainXmlToXl(hvm("<controller type='usb' model='piix3-uhci'/>"))).toThrow(/USB controller model 'piix3-uhci'/);
    expect(() => domainXmlToXl(hvm('').replace("type='xen'", "type='kvm'"))).toThrow(VirtError);
  });

  it('writes a network disk only for RBD', () => {
    const rbd = "<disk type='network' device='disk'><source protocol='rbd' name='p/i'><host name='m' port='1'/></source><target dev='hdb'/></disk>";
    expect(domainXmlToXl(hvm(rbd))).toContain('"format=raw,vdev=hdb,access=rw,backendtype=qdisk,target=rbd:p/i:auth_supported=none:mon_host=m\\\\:1"');
    const nbd = "<disk type='network' device='disk'><source protocol='nbd' name='e'><host name='m' port='1'/></source><target dev='hdb'/></disk>";
    expect(() => domainXmlToXl(hvm(nbd))).toThrow(/Unsupported network block protocol 'nbd'/);
  });
});
