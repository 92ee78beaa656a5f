import { describe, expect, it } from 'vitest';
import { formatPoolOptionsXml, parseStoragePoolXml, parseStorageVolXml } from '@virtkit/core';
import { activationEnabled, buildLvcreateCommand, buildLvsCommand, buildVgcreateCommand } from './lvm-commands.js';
import { parseLvs, sourcesFromPvs, volumesFromLvs } from './lvs-parse.js';

const pool = (opt?: string) =>
  parseStoragePoolXml(
    `<pool type='logical'><name>p</name><source><device path='/dev/loop0'/><name>vg0</name></source><target><path>/dev/vg0</path></target>${opt ? formatPoolOptionsXml({ activation: opt }) : ''}</pool>`,
  );

describe('logical pools: LVM command lines', () => {
  it('activation is a pool option (yes, no, auto from the host)', () => {
    expect(activationEnabled(pool('no'))).toBe(false);
    expect(activationEnabled(pool('yes'))).toBe(true);
    expect(activationEnabled(pool(), () => true)).toBe(true);
    expect(activationEnabled(pool(), () => false)).toBe(false);
  });

  it('lvcreate as libvirt, sparse volumes only with device-mapper', () => {
    const p = pool();
    const vol = parseStorageVolXml(`<volume><name>lv</name><capacity unit='M'>10</capacity><allocation unit='M'>2</allocation></volume>`, p);
    expect(buildLvcreateCommand(p, vol, true)).toEqual(['lvcreate', '--name', 'lv', '-L', '2048K', '--type', 'snapshot', '--virtualsize', '10240K', 'vg0']);
    expect(buildLvcreateCommand(p, vol, false)).toEqual([
      'lvcreate', '--config', 'global { activation = 0 }', '--name', 'lv', '--activate', 'n', '--zero', 'n', '-L', '10240K', 'vg0',
    ]);
    expect(buildVgcreateCommand(p, ['/dev/loop0'], true)).toEqual(['vgcreate', 'vg0', '/dev/loop0']);
    expect(buildLvsCommand(p, true, 'lv').at(-1)).toBe('vg0/lv');
  });

  it('reads lvs and pvs output into volumes, extents and segments', () => {
    const rows = parseLvs(
      '  lv1#  #uuid-1#/dev/loop0(0)#4194304#4194304#8388608#-wi-------#0\n' +
        '  lv1#  #uuid-1#/dev/loop1(3)#4194304#4194304#8388608#-wi-------#4194304\n' +
        '  thin#  #uuid-2#thin_tdata(0)#4194304#4194304#4194304#twi-------#0\n',
    );
    const vols = volumesFromLvs(rows, 'vg0', new Map([['/dev/loop0', 1048576n], ['/dev/loop1', 1048576n]]));
    expect(vols).toHaveLength(1);
    expect(vols[0]!.vol).toMatchObject({ name: 'lv1', key: 'uuid-1', type: 'block', capacity: 8388608n, target: { path: '/dev/vg0/lv1' } });
    expect(vols[0]!.vol.extents).toEqual([
      { path: '/dev/loop0', start: 0n, end: 4194304n },
      { path: '/dev/loop1', start: 12582912n, end: 16777216n },
    ]);
    expect(vols[0]!.segments).toEqual([
      { device: '/dev/loop0', deviceOffset: 1048576n, volumeOffset: 0n, length: 4194304n },
      { device: '/dev/loop1', deviceOffset: 13631488n, volumeOffset: 4194304n, length: 4194304n },
    ]);
    expect(sourcesFromPvs('  /dev/loop0 vg0\n  /dev/loop1 vg0\n  /dev/sdb   data\n').sources.map((s) => [s.name, s.devices.map((d) => d.path)])).toEqual([
      ['vg0', ['/dev/loop0', '/dev/loop1']],
      ['data', ['/dev/sdb']],
    ]);
  });
});
