import { describe, expect, it } from 'vitest';
import { VirtError } from '../../errors.js';
import { formatStorageVolXml, parseStoragePoolXml, parseStorageVolXml } from './index.js';

const dirPool = parseStoragePoolXml(`<pool type='dir'><name>p</name><target><path>/var/lib/images</path></target></pool>`);
const diskPool = parseStoragePoolXml(`<pool type='disk'><name>k</name><source><device path='/dev/sdb'/></source><target><path>/dev</path></target></pool>`);
const lvPool = parseStoragePoolXml(`<pool type='logical'><name>vg</name></pool>`);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VirtError);
    return (e as VirtError).code;
  }
  return undefined;
}

describe('storage volume XML', () => {
  it('scales sizes, defaults the format from the pool and drops what refresh fills in', () => {
    const vol = parseStorageVolXml(
      `<volume><name>a.img</name><capacity unit='GiB'>2</capacity><physical>7</physical>
       <target><path>/var/lib/images/a.img</path><timestamps><atime>1.5</atime></timestamps></target></volume>`,
      dirPool,
    );
    expect(vol.capacity).toBe(2n * 1024n ** 3n);
    expect(vol.allocation).toBe(vol.capacity);
    expect(vol.hasAllocation).toBe(false);
    expect(formatStorageVolXml(vol, dirPool)).toBe(
      [
        "<volume type='file'>",
        '  <name>a.img</name>',
        "  <capacity unit='bytes'>2147483648</capacity>",
        "  <allocation unit='bytes'>2147483648</allocation>",
        '  <target>',
        '    <path>/var/lib/images/a.img</path>',
        "    <format type='raw'/>",
        '  </target>',
        '</volume>',
        '',
      ].join('\n'),
    );
  });

  it('writes runtime data (extents, physical, timestamps) when a backend filled it in', () => {
    const vol = parseStorageVolXml(`<volume type='block'><name>lv</name><capacity>4096</capacity></volume>`, lvPool);
    vol.extents = [
      { path: '/dev/sda2', start: 0n, end: 10n },
      { path: '/dev/sda2', start: 20n, end: 30n },
    ];
    vol.physical = 8192n;
    vol.target.timestamps = { atime: { sec: 10n, nsec: 5 }, mtime: { sec: 11n, nsec: 0 } };
    const out = formatStorageVolXml(vol, lvPool);
    expect(out).toContain("  <source>\n    <device path='/dev/sda2'>\n      <extent start='0' end='10'/>\n      <extent start='20' end='30'/>\n    </device>\n  </source>\n");
    expect(out).toContain("  <physical unit='bytes'>8192</physical>\n");
    expect(out).toContain('    <timestamps>\n      <atime>10.000000005</atime>\n      <mtime>11</mtime>\n    </timestamps>\n');
    expect(out).not.toContain('<format');
  });

  it('reads qcow2 details: compat defaulting with features, cluster size, nocow, LUKS', () => {
    const vol = parseStorageVolXml(
      `<volume><name>q</name><capacity>1</capacity><target><format type='qcow2'/><nocow/>
       <clusterSize unit='KiB'>64</clusterSize><features><extended_l2/><lazy_refcounts/></features>
       <encryption format='luks'><secret type='passphrase' usage='vol'/><cipher name='aes' size='256' mode='xts'/></encryption></target></volume>`,
      dirPool,
    );
    expect(vol.target.compat).toBe('1.1');
    expect(vol.target.clusterSize).toBe(65536n);
    expect(vol.target.nocow).toBe(true);
    expect(vol.target.features).toEqual(['lazy_refcounts', 'extended_l2']);
    const out = formatStorageVolXml(vol, dirPool);
    expect(out).toContain(
      "    <encryption format='luks'>\n      <secret type='passphrase' usage='vol'/>\n      <cipher name='aes' size='256' mode='xts'/>\n    </encryption>\n    <compat>1.1</compat>\n    <clusterSize unit='B'>65536</clusterSize>\n    <features>\n      <lazy_refcounts/>\n      <extended_l2/>\n    </features>\n",
    );
  });

  it('uses partition types in disk pools', () => {
    const vol = parseStorageVolXml(`<volume><name>sdb1</name><capacity>1</capacity><target><format type='linux-swap'/></target></volume>`, diskPool);
    expect(formatStorageVolXml(vol, diskPool)).toContain("<format type='linux-swap'/>");
    expect(code(() => parseStorageVolXml(`<volume><name>x</name><capacity>1</capacity><target><format type='qcow2'/></target></volume>`, diskPool))).toBe(
      'CONFIG_UNSUPPORTED',
    );
  });

  it('honours the capacity parse flags', () => {
    const xml = `<volume><name>x</name><backingStore><path>/b</path></backingStore></volume>`;
    expect(code(() => parseStorageVolXml(xml, dirPool))).toBe('XML_ERROR');
    expect(parseStorageVolXml(xml, dirPool, { optCapacity: true }).capacity).toBe(0n);
    expect(code(() => parseStorageVolXml(`<volume><name>x</name></volume>`, dirPool, { optCapacity: true }))).toBe('XML_ERROR');
    expect(parseStorageVolXml(`<volume><name>x</name></volume>`, dirPool, { noCapacity: true }).capacity).toBe(0n);
  });

  it('keeps unknown elements', () => {
    const vol = parseStorageVolXml(`<volume><name>x</name><capacity>1</capacity><target><path>/p</path><mine/></target><other a='1'/></volume>`, dirPool);
    const out = formatStorageVolXml(vol, dirPool);
    expect(out).toContain('    <mine/>\n  </target>\n');
    expect(out).toContain("  <other a='1'/>\n</volume>");
  });

  it('rejects invalid volumes', () => {
    const bad = [
      [`<volume><capacity>1</capacity></volume>`, 'XML_ERROR'],
      [`<volume type='floppy'><name>x</name><capacity>1</capacity></volume>`, 'CONFIG_UNSUPPORTED'],
      [`<volume><name>x</name><capacity>-1</capacity></volume>`, 'XML_ERROR'],
      [`<volume><name>x</name><capacity unit='XB'>1</capacity></volume>`, 'INVALID_ARG'],
      [`<volume><name>x</name><capacity unit='EiB'>8</capacity></volume>`, 'XML_ERROR'],
      [`<volume><name>x</name><capacity>1</capacity><target><format type='none'/></target></volume>`, 'CONFIG_UNSUPPORTED'],
      [`<volume><name>x</name><capacity>1</capacity><target><compat>1.x</compat></target></volume>`, 'XML_ERROR'],
      [`<volume><name>x</name><capacity>1</capacity><target><features><foo/></features></target></volume>`, 'CONFIG_UNSUPPORTED'],
      [`<volume><name>x</name><capacity>1</capacity><target><encryption format='luks'><ivgen name='plain64'/></encryption></target></volume>`, 'XML_ERROR'],
      [`<volume><name>x</name><capacity>1</capacity><target><encryption format='luks'><cipher name='aes'/></encryption></target></volume>`, 'XML_ERROR'],
      [`<volume><name>x</name><capacity>1</capacity><target><encryption format='zz'/></target></volume>`, 'CONFIG_UNSUPPORTED'],
      [`<volume><name>x</name><capacity>1</capacity><target><permissions><owner>4294967296</owner></permissions></target></volume>`, 'XML_ERROR'],
      [`<pool type='dir'/>`, 'XML_ERROR'],
    ] as const;
    for (const [xml, c] of bad) expect([xml, code(() => parseStorageVolXml(xml, dirPool))]).toEqual([xml, c]);
  });
});
