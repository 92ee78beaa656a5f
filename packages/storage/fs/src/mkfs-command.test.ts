import { describe, expect, it } from 'vitest';
import { VirtError, parseStoragePoolXml } from '@virtkit/core';
import { buildMkfsCommand } from './fs-backend.js';

const pool = (format: string) =>
  parseStoragePoolXml(`<pool type='fs'><name>f</name><source><device path='/dev/loop3'/><format type='${format}'/></source><target><path>/mnt</path></target></pool>`);

describe('fs pool-build: mkfs as libvirt runs it', () => {
  it('forces overwriting the way each mkfs needs', () => {
    expect(buildMkfsCommand(pool('ext4'))).toEqual(['mkfs', '-t', 'ext4', '-F', '/dev/loop3']);
    expect(buildMkfsCommand(pool('xfs'))).toEqual(['mkfs', '-t', 'xfs', '-f', '/dev/loop3']);
    expect(buildMkfsCommand(pool('vfat'))).toEqual(['mkfs', '-t', 'vfat', '-I', '/dev/loop3']);
    expect(() => buildMkfsCommand(pool('auto'))).toThrow(VirtError);
  });
});
