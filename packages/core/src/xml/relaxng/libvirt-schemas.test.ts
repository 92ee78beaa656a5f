import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtError } from '../../errors.js';
import { parseXml } from '../parse.js';
import { compileRelaxNg, LIBVIRT_SCHEMA_FILES, validateLibvirtXml } from './schema.js';
import { findLibvirtSchemaDir } from './schema-dir.js';
import { conformanceRoot, invalidSchemaCases, SCHEMA_AREAS, validSchemaCases } from './test-support.js';

const schemaDir = findLibvirtSchemaDir();
const confRoot = conformanceRoot();
if (!schemaDir) console.log("libvirt schema tests skipped: no schema folder found (install Debian's libvirt0, or set VIRTKIT_SCHEMA_DIR / VIRTKIT_SHARED)");
if (schemaDir && !confRoot) console.log('conformance schema sweep skipped: shared/conformance not found (set VIRTKIT_SHARED)');

const DOMAIN = `<domain type='kvm'>
  <name>demo</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>219136</memory>
  <currentMemory unit='KiB'>219136</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/></features>
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
    <disk type='file' device='cdrom'>
      <source file='/srv/iso/install.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>
    <memballoon model='virtio'/>
  </devices>
</domain>`;

/** The validation failure of `xml` against libvirt's schema of `kind`. */
function failure(kind: keyof typeof LIBVIRT_SCHEMA_FILES, xml: string): VirtError {
  try {
    validateLibvirtXml(kind, xml, { schemaDir: schemaDir! });
  } catch (err) {
    if (err instanceof VirtError) return err;
    throw err;
  }
  throw new Error('the document validated');
}

describe.skipIf(!schemaDir)("libvirt's schemas", () => {
  it('compile once, and validate a typical domain in milliseconds', () => {
    const domain = compileRelaxNg(join(schemaDir!, 'domain.rng'));
    expect(compileRelaxNg(join(schemaDir!, 'domain.rng'))).toBe(domain);
    const doc = parseXml(DOMAIN);
    const t0 = performance.now();
    expect(domain.check(doc)).toBeUndefined();
    const first = performance.now() - t0;
    const t1 = performance.now();
    const runs = 50;
    for (let i = 0; i < runs; i++) domain.check(parseXml(DOMAIN.replace('demo<', `demo${i}<`)));
    const each = (performance.now() - t1) / runs;
    console.log(`domain.rng: compiled in ${domain.compileMs.toFixed(1)} ms; a typical domain validated in ${first.toFixed(2)} ms the first time, ${each.toFixed(2)} ms after (parse included)`);
  });

  it.skipIf(!confRoot)('accept every valid document of the conformance areas', () => {
    let n = 0;
    const failures: string[] = [];
    for (const area of Object.keys(SCHEMA_AREAS)) {
      let perArea = 0;
      for (const c of validSchemaCases(confRoot!, area)) {
        const v = compileRelaxNg(join(schemaDir!, LIBVIRT_SCHEMA_FILES[c.kind])).check(parseXml(readFileSync(c.path, 'utf8')));
        if (v) failures.push(`${area}/${c.file}: ${v.path}: ${v.reason}`);
        perArea++;
      }
      console.log(`${area}: ${perArea} documents checked against ${LIBVIRT_SCHEMA_FILES[SCHEMA_AREAS[area]!]}`);
      n += perArea;
    }
    console.log(`conformance documents valid against libvirt's schemas: ${n - failures.length}/${n}`);
    expect(failures).toEqual([]);
    expect(n).toBeGreaterThan(100);
  });

  it.skipIf(!confRoot)("refuse the documents libvirt's schema test expects to fail (*-invalid.xml)", () => {
    let n = 0;
    for (const area of Object.keys(SCHEMA_AREAS)) {
      for (const c of invalidSchemaCases(confRoot!, area)) {
        const v = compileRelaxNg(join(schemaDir!, LIBVIRT_SCHEMA_FILES[c.kind])).check(parseXml(readFileSync(c.path, 'utf8')));
        expect(v, `${area}/${c.file}`).toBeDefined();
        n++;
      }
    }
    console.log(`*-invalid.xml documents refused: ${n}`);
  });

  it('refuse an unknown element, naming its path', () => {
    const e = failure('domain', DOMAIN.replace('<memballoon', "<frobnicator speed='11'/><memballoon"));
    expect(e.code).toBe('XML_ERROR');
    expect(e.message).toContain(`Unable to validate doc against ${join(schemaDir!, 'domain.rng')}`);
    expect(e.message).toMatch(/\/domain\/devices\/frobnicator: unexpected element <frobnicator> \(expected one of .*<disk>/);
  });

  it('refuse a domain without <name>', () => {
    const e = failure('domain', DOMAIN.replace('<name>demo</name>', ''));
    expect(e.message).toMatch(/\/domain: missing required element <name> in <domain>/);
  });

  it("refuse a bad attribute value like <memory unit='bogus'>", () => {
    const e = failure('domain', DOMAIN.replace("<memory unit='KiB'>", "<memory unit='bogus'>"));
    expect(e.message).toMatch(/\/domain\/memory: invalid value 'bogus' for attribute 'unit': it does not match the pattern '\(\[bB\]/);
  });

  it('refuse a value of the wrong datatype, quoting it', () => {
    const e = failure('domain', DOMAIN.replace('>219136</memory>', '>lots</memory>'));
    expect(e.message).toMatch(/\/domain\/memory: invalid value 'lots': it is not a valid xsd:unsignedLong/);
    const vcpu = failure('domain', DOMAIN.replace("<vcpu placement='static'>1</vcpu>", "<vcpu placement='static'>many</vcpu>"));
    expect(vcpu.message).toMatch(/\/domain\/vcpu: invalid value 'many': it is not a valid xsd:unsignedShort/);
  });

  it('refuse an element out of place, with the index of repeated siblings', () => {
    const e = failure('domain', DOMAIN.replace("<target dev='hdc' bus='ide'/>", "<target dev='hdc' bus='ide'><boot order='1'/></target>"));
    expect(e.message).toMatch(/\/domain\/devices\/disk\[2\]\/target\/boot: unexpected element <boot> \(no more elements are allowed here\)/);
    const twice = failure('domain', DOMAIN.replace('<vcpu', '<name>again</name><vcpu'));
    expect(twice.message).toMatch(/\/domain\/name\[2\]: unexpected element <name>/);
  });

  it('refuse a missing required attribute and an unknown one', () => {
    expect(failure('domain', DOMAIN.replace("<boot dev='hd'/>", '<boot/>')).message).toMatch(/\/domain\/os\/boot: missing required attribute 'dev'/);
    expect(failure('domain', DOMAIN.replace("<clock offset='utc'/>", "<clock offset='utc' drift='2'/>")).message).toMatch(/\/domain\/clock: unexpected attribute 'drift'/);
  });

  it('refuse a wrong root element and an undeclared namespace prefix', () => {
    expect(failure('network', DOMAIN).message).toMatch(/\/domain: the root element <domain> is not <network>/);
    expect(failure('domain', DOMAIN.replace('</devices>', '</devices><qemu:commandline/>')).message).toMatch(/namespace prefix 'qemu'/);
  });

  it('accept the namespaced extensions libvirt knows', () => {
    const qemu = DOMAIN.replace("<domain type='kvm'>", "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>").replace(
      '</devices>',
      "</devices><qemu:commandline><qemu:arg value='-newarg'/><qemu:env name='X' value='1'/></qemu:commandline>",
    );
    expect(validateLibvirtXml('domain', qemu, { schemaDir: schemaDir! })).toBe(true);
    const wrongNs = qemu.replace('http://libvirt.org/schemas/domain/qemu/1.0', 'http://example.com/qemu');
    expect(failure('domain', wrongNs).message).toMatch(/unexpected element <qemu:commandline>/);
  });

  it('check networks, pools and volumes against their schemas', () => {
    const net = "<network><name>n1</name><forward mode='nat'/><ip address='192.168.150.1' netmask='255.255.255.0'><dhcp><range start='192.168.150.2' end='192.168.150.254'/></dhcp></ip></network>";
    expect(validateLibvirtXml('network', net, { schemaDir: schemaDir! })).toBe(true);
    expect(failure('network', net.replace("mode='nat'", "mode='teleport'")).message).toMatch(/\/network\/forward: invalid value 'teleport' for attribute 'mode'/);
    expect(failure('network', net.replace("address='192.168.150.1'", "address='192.168.150.300'")).message).toMatch(/\/network\/ip: invalid value '192.168.150.300' for attribute 'address'/);
    const pool = "<pool type='dir'><name>p1</name><target><path>/var/lib/virtkit/p1</path></target></pool>";
    expect(validateLibvirtXml('storagepool', pool, { schemaDir: schemaDir! })).toBe(true);
    expect(failure('storagepool', pool.replace("type='dir'", "type='cloud'")).message).toMatch(/\/pool: invalid value 'cloud' for attribute 'type'/);
    const vol = "<volume><name>v1.qcow2</name><capacity unit='G'>1</capacity><target><format type='qcow2'/></target></volume>";
    expect(validateLibvirtXml('storagevol', vol, { schemaDir: schemaDir! })).toBe(true);
    expect(failure('storagevol', vol.replace('<name>v1.qcow2</name>', '<name>..</name>')).message).toMatch(/\/volume\/name: invalid value '\.\.'.*excluded/);
  });

  it('returns false without a schema folder, so callers fall back to their own checks', () => {
    const saved = { dir: process.env.VIRTKIT_SCHEMA_DIR };
    expect(validateLibvirtXml('domain', DOMAIN, { schemaDir: schemaDir! })).toBe(true);
    process.env.VIRTKIT_SCHEMA_DIR = schemaDir!;
    try {
      expect(findLibvirtSchemaDir()).toBe(schemaDir);
    } finally {
      if (saved.dir === undefined) delete process.env.VIRTKIT_SCHEMA_DIR;
      else process.env.VIRTKIT_SCHEMA_DIR = saved.dir;
    }
  });
});
