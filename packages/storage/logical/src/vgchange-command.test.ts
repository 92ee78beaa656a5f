import { describe, expect, it } from 'vitest';
import { VirtError, parseStoragePoolXml } from '@virtkit/core';
import { buildPoolStartCommand, buildPoolStopCommand, buildVgchangeCommand } from './vgchange-command.js';

describe('logical pool commands', () => {
  const pool = parseStoragePoolXml(`<pool type='logical'><name>vms</name><source><name>HostVG</name></source></pool>`);

  it('activates and deactivates the volume group named by the source', () => {
    expect(buildPoolStartCommand(pool)).toEqual(['vgchange', '-aly', 'HostVG']);
    expect(buildPoolStopCommand(pool)).toEqual(['vgchange', '-aln', 'HostVG']);
    expect(buildVgchangeCommand(pool, true, { vgchange: '/sbin/vgchange' })[0]).toBe('/sbin/vgchange');
  });

  it('has no command for other pool types', () => {
    const dir = parseStoragePoolXml(`<pool type='dir'><name>d</name><target><path>/d</path></target></pool>`);
    expect(() => buildPoolStartCommand(dir)).toThrow(VirtError);
  });
});
