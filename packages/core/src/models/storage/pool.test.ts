import { describe, expect, it } from 'vitest';
import { VirtError } from '../../errors.js';
import {
  formatStoragePoolSourceListXml,
  formatStoragePoolXml,
  parseStoragePoolSourceListXml,
  parseStoragePoolSourceXml,
  parseStoragePoolXml,
} from './index.js';

const roundtrip = (xml: string) => formatStoragePoolXml(parseStoragePoolXml(xml));
const UUID = '70a7eb15-6c34-ee9c-bf57-69e8e5ff3fb2';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VirtError);
    return (e as VirtError).code;
  }
  return undefined;
}

describe('storage pool XML', () => {
  it('formats a dir pool with sanitized path, sizes in bytes and an empty source', () => {
    const out = roundtrip(`<pool type='dir'><name>d</name><uuid>${UUID}</uuid><capacity>5</capacity>
      <target><path>//srv///images/</path><permissions><mode>755</mode><owner>107</owner></permissions></target></pool>`);
    expect(out).toBe(
      [
        "<pool type='dir'>",
        '  <name>d</name>',
        `  <uuid>${UUID}</uuid>`,
        "  <capacity unit='bytes'>0</capacity>",
        "  <allocation unit='bytes'>0</allocation>",
        "  <available unit='bytes'>0</available>",
        '  <source>',
        '  </source>',
        '  <target>',
        '    <path>//srv/images</path>',
        '    <permissions>',
        '      <mode>0755</mode>',
        '      <owner>107</owner>',
        '    </permissions>',
        '  </target>',
        '</pool>',
        '',
      ].join('\n'),
    );
  });

  it('reads an fs pool with its device and format, and a disk pool with part_separator', () => {
    const fs = parseStoragePoolXml(
      `<pool type='fs'><name>f</name><source><device path='/dev/sda6'/><format type='ext3'/></source><target><path>/mnt</path></target></pool>`,
    );
    expect(fs.source.devices).toEqual([{ path: '/dev/sda6' }]);
    expect(fs.source.format).toBe('ext3');
    expect(fs.uuid).toMatch(/^[0-9a-f-]{36}$/);
    const out = roundtrip(
      `<pool type='disk'><name>k</name><uuid>${UUID}</uuid><source><device path='/dev/sdb' part_separator='no'/><format type='gpt'/></source><target><path>/dev</path></target></pool>`,
    );
    expect(out).toContain("    <device path='/dev/sdb' part_separator='no'/>\n    <format type='gpt'/>\n");
  });

  it('writes a scsi_host adapter addressed by its parent PCI device', () => {
    const out = roundtrip(`<pool type='scsi'><name>hba</name><uuid>${UUID}</uuid><source>
      <adapter type='scsi_host'><parentaddr unique_id='1'><address domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/></parentaddr></adapter>
      </source><target><path>/dev/disk/by-path</path></target></pool>`);
    expect(out).toContain(
      "    <adapter type='scsi_host'>\n      <parentaddr unique_id='1'>\n        <address domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>\n      </parentaddr>\n    </adapter>\n",
    );
  });

  it('keeps sheepdog/gluster/rbd pools without a target and derives names', () => {
    const out = roundtrip(`<pool type='sheepdog'><name>s</name><uuid>${UUID}</uuid><source><name>sd</name><host name='localhost' port='7000'/></source></pool>`);
    expect(out).toContain("    <host name='localhost' port='7000'/>\n    <name>sd</name>\n  </source>\n</pool>");
    const lv = parseStoragePoolXml(`<pool type='logical'><source><name>vg0</name></source><target><path>/x</path></target></pool>`);
    expect(lv.name).toBe('vg0');
    expect(lv.target?.path).toBe('/dev/vg0');
    expect(parseStoragePoolXml(`<pool type='zfs'><name>z</name><source><name>tank</name></source></pool>`).target?.path).toBe('/dev/zvol/tank');
  });

  it('handles the fs and rbd backend namespaces only on their pool types', () => {
    const ns = "xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'";
    const netfs = parseStoragePoolXml(`<pool type='netfs' ${ns}><name>n</name><source><host name='h'/><dir path='/e'/></source>
      <target><path>/mnt</path></target><fs:mount_opts><fs:option name='sync'/></fs:mount_opts></pool>`);
    expect(netfs.mountOptions).toEqual(['sync']);
    expect(formatStoragePoolXml(netfs)).toContain(`<pool type='netfs' ${ns}>`);
    const noOpts = roundtrip(`<pool type='netfs' ${ns}><name>n</name><source><host name='h'/><dir path='/e'/></source><target><path>/m</path></target></pool>`);
    expect(noOpts).toContain("<pool type='netfs'>");
    const other = roundtrip(`<pool type='rbd' xmlns:r='http://libvirt.org/schemas/storagepool/rbd/1.0'><name>c</name><uuid>${UUID}</uuid>
      <source><name>rbd</name><host name='mon'/></source><r:config_opts><r:option name='a' value='1'/></r:config_opts></pool>`);
    expect(other).toContain("<pool type='rbd' xmlns:rbd='http://libvirt.org/schemas/storagepool/rbd/1.0'>");
    expect(other).toContain("    <rbd:option name='a' value='1'/>");
  });

  it('keeps unknown elements and attributes', () => {
    const out = roundtrip(`<pool type='dir' x-note='1'><name>d</name><uuid>${UUID}</uuid><target><path>/p</path><extra a='b'/></target><custom>t</custom></pool>`);
    expect(out).toContain("<pool type='dir' x-note='1'>");
    expect(out).toContain("    <extra a='b'/>\n  </target>\n  <custom>t</custom>\n</pool>");
  });

  it('rejects what libvirt rejects, with its error kinds', () => {
    expect(code(() => parseStoragePoolXml(`<pool type='foo'><name>x</name></pool>`))).toBe('XML_ERROR');
    expect(code(() => parseStoragePoolXml(`<pool type='dir'><name>a/b</name><target><path>/p</path></target></pool>`))).toBe('XML_ERROR');
    expect(code(() => parseStoragePoolXml(`<pool type='dir'><name>a</name></pool>`))).toBe('XML_ERROR');
    expect(code(() => parseStoragePoolXml(`<pool type='netfs'><name>a</name><source><dir path='/x'/></source><target><path>/p</path></target></pool>`))).toBe('XML_ERROR');
    expect(code(() => parseStoragePoolXml(`<pool type='fs'><name>a</name><target><path>/p</path></target></pool>`))).toBe('XML_ERROR');
    expect(code(() => parseStoragePoolXml(`<pool type='rbd'><name>a</name><source><host name='h'/></source></pool>`))).toBe('XML_ERROR');
    expect(code(() => parseStoragePoolXml(`<pool type='logical'><name>a</name><features><cow state='yes'/></features></pool>`))).toBe('NO_SUPPORT');
    expect(code(() => parseStoragePoolXml(`<pool type='fs'><name>a</name><source><device path='/d'/><format type='zzz'/></source><target><path>/p</path></target></pool>`))).toBe('CONFIG_UNSUPPORTED');
    expect(code(() => parseStoragePoolXml(`<pool type='iscsi-direct'><name>a</name><source><host name='h'/><device path='t'/></source></pool>`))).toBe('CONFIG_UNSUPPORTED');
    expect(code(() => parseStoragePoolXml(`<pool type='scsi'><name>a</name><source><adapter type='fc_host' wwnn='1' wwpn='2'/></source><target><path>/p</path></target></pool>`))).toBe('INTERNAL_ERROR');
    expect(code(() => parseStoragePoolXml(`<pool type='dir'><name>a</name><uuid>nope</uuid><target><path>/p</path></target></pool>`))).toBe('XML_ERROR');
    expect(code(() => parseStoragePoolXml(`<pool type='dir'><name>a</name><target><path>/p</path><permissions><mode>1777</mode></permissions></target></pool>`))).toBe('XML_ERROR');
    expect(code(() => parseStoragePoolXml(`<pool type='netfs'><name>a</name><source><host name='h'/><dir path='/d'/><format type='cifs'/><protocol ver='3'/></source><target><path>/p</path></target></pool>`))).toBe('CONFIG_UNSUPPORTED');
    expect(code(() => parseStoragePoolXml(`<pool type='iscsi'><name>a</name><source><host name='h'/><device path='t'/><auth username='u'><secret usage='x'/></auth></source><target><path>/p</path></target></pool>`))).toBe('CONFIG_UNSUPPORTED');
    expect(code(() => parseStoragePoolXml(`<volume/>`))).toBe('XML_ERROR');
  });

  it('reads and writes find-storage-pool-sources lists', () => {
    const src = parseStoragePoolSourceXml(`<source><host name='nfs.example.com'/></source>`, 'netfs');
    expect(src.hosts[0]?.name).toBe('nfs.example.com');
    const xml = formatStoragePoolSourceListXml({
      type: 'netfs',
      sources: [{ hosts: [{ name: 'h' }], devices: [], dir: '/export', format: 'nfs' }],
    });
    expect(xml).toBe("<sources>\n  <source>\n    <host name='h'/>\n    <dir path='/export'/>\n    <format type='nfs'/>\n  </source>\n</sources>\n");
    expect(parseStoragePoolSourceListXml(xml, 'netfs').sources[0]?.dir).toBe('/export');
  });
});
