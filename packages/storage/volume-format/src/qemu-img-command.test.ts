import { describe, expect, it } from 'vitest';
import { VirtError, parseStoragePoolXml, parseStorageVolXml } from '@virtkit/core';
import { buildQemuImgCommand, buildQemuImgCommands, escapeComma } from './qemu-img-command.js';
import { buildQemuImgResizeCommand } from './qemu-img-resize.js';

const dir = parseStoragePoolXml(`<pool type='dir'><name>d</name><target><path>/images</path></target></pool>`);
const disk = parseStoragePoolXml(`<pool type='disk'><name>k</name><source><device path='/dev/sdb'/></source><target><path>/dev</path></target></pool>`);
const lvm = parseStoragePoolXml(`<pool type='logical'><name>vg</name></pool>`);
const vol = (xml: string, pool = dir) => parseStorageVolXml(xml, pool);
const always = () => true;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VirtError);
    return (e as VirtError).code;
  }
  return undefined;
}

describe('qemu-img command lines', () => {
  it('creates a qcow2 image with compat 0.10 by default and the size in KiB rounded up', () => {
    const v = vol(`<volume><name>a</name><capacity>1025</capacity><target><path>/images/a</path><format type='qcow2'/></target></volume>`);
    expect(buildQemuImgCommand({ pool: dir, vol: v })).toEqual(['qemu-img', 'create', '-f', 'qcow2', '-o', 'compat=0.10', '/images/a', '2K']);
  });

  it('adds the backing file, checking it is readable (relative paths against the pool)', () => {
    const v = vol(
      `<volume><name>a</name><capacity>0</capacity><target><path>/images/a</path><format type='qed'/></target><backingStore><path>base.img</path><format type='qcow2'/></backingStore></volume>`,
    );
    const seen: string[] = [];
    const argv = buildQemuImgCommand({ pool: dir, vol: v, isReadable: (p) => (seen.push(p), true) });
    expect(argv).toEqual(['qemu-img', 'create', '-f', 'qed', '-b', 'base.img', '-o', 'backing_fmt=qcow2', '/images/a']);
    expect(seen).toEqual(['/images/base.img']);
    expect(code(() => buildQemuImgCommand({ pool: dir, vol: v, isReadable: () => false }))).toBe('SYSTEM_ERROR');
  });

  it('writes block volumes as raw and converts from them', () => {
    const lv = vol(`<volume type='block'><name>lv</name><capacity>1048576</capacity><target><path>/dev/vg/lv</path></target></volume>`, lvm);
    const q = vol(`<volume><name>q</name><capacity>1</capacity><target><path>/images/q</path><format type='qcow2'/></target></volume>`);
    expect(buildQemuImgCommand({ pool: lvm, vol: lv, inputVol: q, inputPool: dir })).toEqual([
      'qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw', '/images/q', '/dev/vg/lv',
    ]);
  });

  it("reads a disk pool's partition type as the image format with the same number, as libvirt does", () => {
    const p = vol(`<volume><name>sdb1</name><capacity>1024</capacity><target><path>/dev/sdb1</path><format type='linux'/></target></volume>`, disk);
    expect(buildQemuImgCommand({ pool: disk, vol: p })).toEqual(['qemu-img', 'create', '-f', 'raw', '/dev/sdb1', '1K']);
  });

  it('escapes commas in secret paths and LUKS settings', () => {
    const v = vol(`<volume><name>l</name><capacity>1024</capacity><target><path>/images/l</path><format type='raw'/>
      <encryption format='luks'><secret type='passphrase' usage='u'/><cipher name='a,b' size='128'/></encryption></target></volume>`);
    expect(escapeComma('a,b')).toBe('a,,b');
    expect(buildQemuImgCommand({ pool: dir, vol: v, secretPath: '/s,1' })).toEqual([
      'qemu-img', 'create', '-f', 'luks', '--object', 'secret,id=l_encrypt0,file=/s,,1',
      '-o', 'key-secret=l_encrypt0,cipher-alg=a,,b-128', '/images/l', '1K',
    ]);
    expect(code(() => buildQemuImgCommand({ pool: dir, vol: v }))).toBe('INTERNAL_ERROR');
  });

  it('splits encrypted conversions into create + convert', () => {
    const src = vol(`<volume><name>s</name><capacity>1024</capacity><target><path>/images/s</path><format type='qcow2'/></target></volume>`);
    const dst = vol(`<volume><name>d</name><capacity>2048</capacity><target><path>/images/d</path>
      <encryption format='luks'><secret type='passphrase' usage='u'/></encryption></target></volume>`);
    const cmds = buildQemuImgCommands({ pool: dir, vol: dst, inputVol: src, secretPath: '/sec' });
    expect(cmds).toEqual([
      ['qemu-img', 'create', '-f', 'luks', '--object', 'secret,id=d_encrypt0,file=/sec', '-o', 'key-secret=d_encrypt0', '/images/d', '2K'],
      [
        'qemu-img', 'convert', '--image-opts', '-n', '--target-image-opts', '--object', 'secret,id=d_encrypt0,file=/sec',
        'driver=qcow2,file.filename=/images/s', 'driver=luks,file.filename=/images/d,key-secret=d_encrypt0',
      ],
    ]);
  });

  it('refuses what libvirt refuses', () => {
    const raw = vol(`<volume><name>r</name><capacity>1</capacity><target><path>/images/r</path></target><backingStore><path>/dev/null</path></backingStore></volume>`);
    expect(code(() => buildQemuImgCommand({ pool: dir, vol: raw, isReadable: always }))).toBe('CONFIG_UNSUPPORTED');
    const q = vol(`<volume><name>q</name><capacity>1</capacity><target><path>/images/q</path><format type='qcow2'/></target><backingStore><path>/dev/null</path></backingStore></volume>`);
    expect(code(() => buildQemuImgCommand({ pool: dir, vol: q, preallocMetadata: true, isReadable: always }))).toBe('CONFIG_UNSUPPORTED');
    const vmdk = vol(`<volume><name>v</name><capacity>1</capacity><target><path>/images/v</path><format type='vmdk'/><compat>1.1</compat></target></volume>`);
    expect(code(() => buildQemuImgCommand({ pool: dir, vol: vmdk }))).toBe('CONFIG_UNSUPPORTED');
    const l2 = vol(`<volume><name>x</name><capacity>1</capacity><target><path>/images/x</path><format type='qcow2'/><compat>0.10</compat><features><extended_l2/></features></target></volume>`);
    expect(code(() => buildQemuImgCommand({ pool: dir, vol: l2 }))).toBe('CONFIG_UNSUPPORTED');
    const nopath = vol(`<volume><name>n</name><capacity>1</capacity></volume>`);
    expect(code(() => buildQemuImgCommand({ pool: dir, vol: nopath }))).toBe('INVALID_ARG');
  });

  it('builds resize commands, plain and through LUKS image options', () => {
    const q = vol(`<volume><name>q</name><capacity>1</capacity><target><path>/images/q</path><format type='qcow2'/></target></volume>`);
    expect(buildQemuImgResizeCommand({ pool: dir, vol: q, capacity: 4096n })).toEqual(['qemu-img', 'resize', '/images/q', '4096']);
    const l = vol(`<volume><name>l</name><capacity>1</capacity><target><path>/images/l</path><format type='qcow2'/>
      <encryption format='luks'><secret type='passphrase' usage='u'/></encryption></target></volume>`);
    expect(buildQemuImgResizeCommand({ pool: dir, vol: l, capacity: 8n, secretPath: '/s', shrink: true })).toEqual([
      'qemu-img', 'resize', '--shrink', '--object', 'secret,id=l_encrypt0,file=/s',
      '--image-opts', 'driver=qcow2,encrypt.key-secret=l_encrypt0,file.filename=/images/l', '8',
    ]);
  });
});
