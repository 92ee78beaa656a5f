import { describe, expect, it } from 'vitest';
import { VirtError, formatStoragePoolSourceListXml, parseStoragePoolXml } from '@virtkit/core';
import { buildPoolStartCommand, buildShowmountCommand, hostOfSourceSpec, parseShowmountExports } from './index.js';

describe('netfs pools', () => {
  it('starts with a mount of host:dir', () => {
    const pool = parseStoragePoolXml(`<pool type='netfs'><name>n</name><source><host name='h'/><dir path='/e/'/><format type='nfs'/></source><target><path>/m</path></target></pool>`);
    expect(buildPoolStartCommand(pool, { platform: 'linux' })).toEqual(['mount', '-o', 'nodev,nosuid,noexec', '-t', 'nfs', 'h:/e', '/m']);
    const fs = parseStoragePoolXml(`<pool type='fs'><name>f</name><source><device path='/dev/x'/></source><target><path>/m</path></target></pool>`);
    expect(() => buildPoolStartCommand(fs)).toThrow(VirtError);
  });

  it('turns showmount output into a <sources> list', () => {
    expect(hostOfSourceSpec(`<source><host name='nas.example.com'/></source>`)).toBe('nas.example.com');
    expect(() => hostOfSourceSpec(`<source/>`)).toThrow(VirtError);
    expect(buildShowmountCommand('nas')).toEqual(['showmount', '--no-headers', '--exports', 'nas']);
    const list = parseShowmountExports('/srv/vms      *\n/srv/iso images 10.0.0.0/8\njunk\n', 'nas');
    expect(formatStoragePoolSourceListXml(list)).toBe(
      "<sources>\n  <source>\n    <host name='nas'/>\n    <dir path='/srv/vms'/>\n    <format type='nfs'/>\n  </source>\n" +
        "  <source>\n    <host name='nas'/>\n    <dir path='/srv/iso images'/>\n    <format type='nfs'/>\n  </source>\n</sources>\n",
    );
  });
});
