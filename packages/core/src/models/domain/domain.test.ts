import { describe, expect, it } from 'vitest';
import { VirtError } from '../../errors.js';
import { formatDomainXml, parseDomainXml, type DomainParserConfig } from './index.js';

const BASE = `<domain type='kvm'>
  <name>demo</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/demo.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='secret'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
  </devices>
</domain>
`;

const roundTrip = (xml: string, inactive = true, config?: DomainParserConfig) =>
  formatDomainXml(parseDomainXml(xml, { inactive, config }), { inactive, secure: true, config });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof VirtError) return e.code;
    throw e;
  }
  return undefined;
}

describe('parseDomainXml / formatDomainXml', () => {
  it('round-trips a canonical document unchanged', () => {
    expect(roundTrip(BASE)).toBe(BASE);
  });

  it('gives typed access to what drivers need', () => {
    const def = parseDomainXml(BASE, { inactive: true });
    expect(def.name).toBe('demo');
    expect(def.type).toBe('kvm');
    expect(def.memory.total).toBe(1048576);
    expect(def.memory.current).toBe(524288);
    expect(def.vcpu.max).toBe(2);
    expect(def.os.arch).toBe('x86_64');
    expect(def.devices.disks[0]!.src.path).toBe('/var/lib/libvirt/images/demo.qcow2');
    expect(def.devices.disks[0]!.src.format).toBe('qcow2');
    expect(def.devices.interfaces[0]!.mac).toBe('52:54:00:12:34:56');
    expect(def.devices.graphics[0]!.autoport).toBe(true);
  });

  it('normalises memory units to KiB and fills currentMemory', () => {
    const xml = BASE.replace("<memory unit='KiB'>1048576</memory>", "<memory unit='GiB'>2</memory>").replace(/ *<currentMemory[^\n]*\n/, '');
    const def = parseDomainXml(xml);
    expect(def.memory.total).toBe(2097152);
    expect(def.memory.current).toBe(2097152);
    const out = formatDomainXml(def);
    expect(out).toContain("<memory unit='KiB'>2097152</memory>");
    expect(out).toContain("<currentMemory unit='KiB'>2097152</currentMemory>");
    expect(parseDomainXml(BASE.replace("unit='KiB'>1048576", "unit='MB'>1000")).memory.total).toBe(976563);
  });

  it('canonicalises UUIDs and rejects malformed ones', () => {
    const def = parseDomainXml(BASE.replace('c7a5fdbd-edaf-9455-926a-d65c16db1809', 'C7A5FDBDEDAF9455926AD65C16DB1809'));
    expect(def.uuid).toBe('c7a5fdbd-edaf-9455-926a-d65c16db1809');
    expect(code(() => parseDomainXml(BASE.replace('c7a5fdbd-edaf', 'zz')))).toBe('XML_ERROR');
    const gen = parseDomainXml(BASE.replace(/ *<uuid>.*\n/, ''));
    expect(gen.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('checks MAC addresses', () => {
    expect(parseDomainXml(BASE.replace('52:54:00:12:34:56', '52:54:00:AB:CD:EF')).devices.interfaces[0]!.mac).toBe('52:54:00:ab:cd:ef');
    expect(code(() => parseDomainXml(BASE.replace('52:54:00:12:34:56', '52:54:00:12:34')))).toBe('XML_ERROR');
    expect(code(() => parseDomainXml(BASE.replace('52:54:00:12:34:56', '01:00:5e:00:00:01')))).toBe('XML_ERROR');
    const gen = parseDomainXml(BASE.replace(/ *<mac [^\n]*\n/, ''));
    expect(gen.devices.interfaces[0]!.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });

  it('rejects invalid definitions with libvirt’s error codes', () => {
    expect(code(() => parseDomainXml(BASE.replace('<name>demo</name>', '')))).toBe('XML_ERROR');
    expect(code(() => parseDomainXml(BASE.replace('<name>demo</name>', '<name>a/b</name>')))).toBe('XML_ERROR');
    expect(code(() => parseDomainXml(BASE.replace("type='kvm'", "type='bogus'")))).toBe('XML_ERROR');
    expect(code(() => parseDomainXml(BASE.replace('<vcpu placement=\'static\'>2</vcpu>', "<vcpu current='3'>2</vcpu>")))).toBe('XML_ERROR');
    const twoSerialConsoles = BASE.replace('</devices>', "<console type='pty'><target type='virtio'/></console><console type='pty'><target type='serial'/></console></devices>");
    expect(code(() => parseDomainXml(twoSerialConsoles))).toBe('CONFIG_UNSUPPORTED');
    const tooMuchDimm = BASE.replace('</devices>', "<memory model='dimm'><target><size unit='GiB'>4</size><node>0</node></target></memory></devices>");
    expect(code(() => parseDomainXml(tooMuchDimm))).toBe('XML_DETAIL');
    const tcpNoHost = BASE.replace('</devices>', "<serial type='tcp'><source mode='connect' service='1'/></serial></devices>");
    expect(code(() => parseDomainXml(tcpNoHost))).toBe('XML_ERROR');
  });

  it('keeps unknown elements and attributes', () => {
    const xml = BASE.replace("<disk type='file' device='disk'>", "<disk type='file' device='disk' futureattr='x'>")
      .replace("      <model type='virtio'/>\n", "      <model type='virtio'/>\n      <futurechild a='1'>\n        <deeper>text</deeper>\n      </futurechild>\n")
      .replace('</devices>\n', "</devices>\n  <unknowntop enabled='yes'/>\n");
    const out = roundTrip(xml);
    expect(out).toContain("<disk type='file' device='disk' futureattr='x'>");
    expect(out).toContain("      <futurechild a='1'>\n        <deeper>text</deeper>\n      </futurechild>\n");
    expect(out).toContain("  <unknowntop enabled='yes'/>\n</domain>");
    expect(roundTrip(out)).toBe(out);
  });

  it('splits vcpusched per vCPU and keeps the id only in live XML', () => {
    const xml = BASE.replace("<vcpu placement='static'>2</vcpu>", "<vcpu placement='static'>4</vcpu>\n  <cputune>\n    <vcpusched vcpus='0-1,3' scheduler='fifo' priority='1'/>\n  </cputune>")
      .replace("<domain type='kvm'>", "<domain type='kvm' id='7'>");
    const live = roundTrip(xml, false);
    expect(live).toContain("<domain type='kvm' id='7'>");
    expect(live.match(/<vcpusched /g)).toHaveLength(3);
    expect(live).toContain("<vcpusched vcpus='3' scheduler='fifo' priority='1'/>");
    expect(roundTrip(xml, true)).toContain("<domain type='kvm'>");
  });

  it('drops non-user aliases in inactive XML and hides passwords without SECURE', () => {
    const xml = BASE.replace("      <model type='virtio'/>\n", "      <model type='virtio'/>\n      <alias name='net0'/>\n");
    expect(roundTrip(xml, false)).toContain("<alias name='net0'/>");
    expect(roundTrip(xml, true)).not.toContain('<alias');
    const cfg: DomainParserConfig = { features: { userAlias: true } };
    expect(roundTrip(xml.replace('net0', 'ua-mynic'), true, cfg)).toContain("<alias name='ua-mynic'/>");
    const def = parseDomainXml(BASE);
    expect(formatDomainXml(def)).not.toContain('passwd=');
    expect(formatDomainXml(def, { secure: true })).toContain("passwd='secret'");
  });

  it('adds implicit controllers, drive addresses and the serial console alias', () => {
    const xml = BASE.replace('</devices>', "<disk type='file' device='cdrom'><source file='/x.iso'/><target dev='hdc'/><readonly/></disk><serial type='pty'/></devices>");
    const def = parseDomainXml(xml);
    const cd = def.devices.disks[1]!;
    expect(cd.bus).toBe('ide');
    expect(cd.info.address).toEqual({ type: 'drive', controller: 0, bus: 1, target: 0, unit: 0 });
    expect(def.devices.controllers.map((c) => `${c.type}${c.index}`)).toEqual(['ide0']);
    const out = formatDomainXml(def);
    expect(out).toContain("<serial type='pty'>\n      <target port='0'/>\n    </serial>");
    // A serial port without a target type also gets its console alias (libvirt's xlconfig data shows it).
    expect(out).toContain("<console type='pty'>\n      <target type='serial' port='0'/>\n    </console>");
    const isa = formatDomainXml(parseDomainXml(xml.replace("<serial type='pty'/>", "<serial type='pty'><target type='isa-serial'/></serial>")));
    expect(isa).toContain("<console type='pty'>\n      <target type='serial' port='0'/>\n    </console>");
  });

  it('calls the driver hooks in libvirt’s order and formats namespaces', () => {
    const calls: string[] = [];
    const cfg: DomainParserConfig = {
      defaultEmulator: () => '/usr/bin/fake',
      domainPostParseBasic: () => calls.push('basic'),
      domainPostParse: (def) => {
        calls.push('domain');
        def.cpu ??= { mode: 'custom', model: 'qemu64', fallback: 'forbid', features: [] };
      },
      devicePostParse: (dev) => {
        calls.push(`device:${dev.kind}`);
        if (dev.kind === 'controller' && dev.def.type === 'usb') dev.def.model ??= 'piix3-uhci';
      },
      assignAddresses: (def) => {
        calls.push('addresses');
        def.devices.disks[0]!.info.address = { type: 'pci', domain: 0, bus: 0, slot: 4, function: 0 };
      },
      validateDomain: () => calls.push('validate'),
      namespaces: [{
        prefix: 'x',
        uri: 'urn:test',
        parse: (els) => els.map((e) => e.attr('v')),
        format: (w, data) => {
          for (const v of data as string[]) w.empty('x:opt', [['v', v]]);
        },
      }],
    };
    const xml = BASE.replace("<domain type='kvm'>", "<domain type='kvm' xmlns:x='urn:test'>").replace(/ *<emulator>.*\n/, '')
      .replace('</devices>', "<controller type='usb'/></devices>\n  <x:opt v='1'/>");
    const out = roundTrip(xml, true, cfg);
    expect(calls.slice(0, 3)).toEqual(['basic', 'domain', 'device:disk']);
    expect(calls).toContain('device:controller');
    expect(calls.indexOf('addresses')).toBeLessThan(calls.indexOf('validate'));
    expect(out).toContain("<domain type='kvm' xmlns:x='urn:test'>");
    expect(out).toContain("<emulator>/usr/bin/fake</emulator>");
    expect(out).toContain("<controller type='usb' index='0' model='piix3-uhci'/>");
    expect(out).toContain("<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>");
    expect(out).toContain("<model fallback='forbid'>qemu64</model>");
    expect(out.trimEnd().endsWith("  <x:opt v='1'/>\n</domain>")).toBe(true);
  });

  it('refuses hostile documents with XML_ERROR', () => {
    expect(code(() => parseDomainXml('<!DOCTYPE d [<!ENTITY a "b">]><domain/>'))).toBe('XML_ERROR');
    expect(code(() => parseDomainXml(BASE.replace('<name>demo', '<name>&xxe;demo')))).toBe('XML_ERROR');
    expect(code(() => parseDomainXml('<domain>' + '<a>'.repeat(500) + '</a>'.repeat(500) + '</domain>'))).toBe('XML_ERROR');
    expect(code(() => parseDomainXml('<domain type="kvm"><name>x</name>'))).toBe('XML_ERROR');
    expect(code(() => parseDomainXml('<network/>'))).toBe('XML_ERROR');
    expect(code(() => parseDomainXml('x'.repeat(11 * 1024 * 1024)))).toBe('XML_ERROR');
  });
});

describe('auto-allocated graphics ports', () => {
  const xml = "<domain type='qemu'><name>g</name><memory>65536</memory><os><type>hvm</type></os><devices><graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'/></devices></domain>";
  it("are dropped from a user's XML, as libvirt does", () => {
    const def = parseDomainXml(xml, { inactive: false });
    expect(def.devices.graphics[0]!.port).toBe(0);
    expect(formatDomainXml(def)).toContain("<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>");
  });
  it("are kept in the driver's own status XML, and shown live", () => {
    const def = parseDomainXml(xml, { inactive: false, status: true });
    expect(def.devices.graphics[0]!.port).toBe(5901);
    expect(formatDomainXml(def)).toContain("<graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>");
    expect(formatDomainXml(def, { inactive: true })).toContain("<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>");
  });
});
