import { describe, expect, it } from 'vitest';
import { VirtError } from '@virtkit/core';
import { parseQemuImgInfo } from './qemu-img-info.js';

describe('qemu-img info JSON', () => {
  it('reads sizes exactly, qcow2 details and backing chains', () => {
    const info = parseQemuImgInfo(`[
      {"virtual-size": 18446744073709551000, "filename": "top.qcow2", "cluster-size": 65536, "format": "qcow2",
       "actual-size": 200704, "backing-filename": "base.raw", "backing-filename-format": "raw",
       "format-specific": {"type": "qcow2", "data": {"compat": "1.1", "lazy-refcounts": true, "extended-l2": false}},
       "dirty-flag": false},
      {"virtual-size": 1048576, "filename": "base.raw", "format": "raw", "actual-size": 0, "dirty-flag": false}
    ]`);
    expect(info.virtualSize).toBe(18446744073709551000n);
    expect(info.compat).toBe('1.1');
    expect(info.lazyRefcounts).toBe(true);
    expect(info.backingFilenameFormat).toBe('raw');
    expect(info.backing?.format).toBe('raw');
    expect(info.backing?.virtualSize).toBe(1048576n);
  });

  it('refuses output that is not an image description', () => {
    for (const bad of ['', 'nope', '[]', '{"filename": "x"}', '{"filename":"x","format":"raw","virtual-size":-1}']) {
      expect(() => parseQemuImgInfo(bad)).toThrow(VirtError);
    }
  });
});
