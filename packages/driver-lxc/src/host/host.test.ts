import { describe, expect, it } from 'vitest';
import { parseCgroupMounts, sharesToWeight, weightToShares, controllerVersion } from './cgroups.js';
import { parseInitExit } from './lxc-tools.js';
import { parseProcStat } from '@virtkit/core';
import { initRequest } from './initctl.js';
import { vethNames } from './nics.js';

describe('host helpers', () => {
  it('reads cgroup mounts of a hybrid host', () => {
    const l = parseCgroupMounts(
      [
        '30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu',
        '34 25 0:30 / /sys/fs/cgroup/systemd rw,relatime shared:13 - cgroup cgroup rw,xattr,name=systemd',
        '35 25 0:31 / /sys/fs/cgroup/unified rw,relatime shared:14 - cgroup2 cgroup2 rw',
        '36 25 0:32 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio',
      ].join('\n'),
      'hugetlb',
    );
    expect(l.v1.get('cpu')).toBe('/sys/fs/cgroup/cpu');
    expect(l.v1.get('name=systemd')).toBe('/sys/fs/cgroup/systemd');
    expect(l.v1.get('net_prio')).toBe('/sys/fs/cgroup/net_cls,net_prio');
    expect(l.unified).toBe('/sys/fs/cgroup/unified');
    expect(controllerVersion(l, 'cpu')).toBe(1);
    expect(controllerVersion(l, 'hugetlb')).toBe(2);
    expect(controllerVersion(l, 'memory')).toBeUndefined();
  });

  it('converts CPU shares and weights both ways', () => {
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(weightToShares(100)).toBeGreaterThan(2500);
  });

  it("reads how a container's init ended from LXC's log", () => {
    expect(parseInitExit('lxc-start c 2026 INFO start - x - Started "/sbin/init"\n')).toEqual({ kind: 'exited', status: 0 });
    expect(parseInitExit('… INFO     error - ../src/lxc/error.c:lxc_error_set_and_log:31 - Child <26006> ended on error (2)\n')).toEqual({ kind: 'exited', status: 2 });
    expect(parseInitExit('… - Child <1> ended on error (2)\n… - Child <9> ended on signal Killed(9)\n')).toEqual({ kind: 'signaled', signal: 'Killed', number: 9 });
  });

  it('parses /proc/PID/stat with odd command names', () => {
    const st = parseProcStat('4242 (lxc monitor) x) S 1 4242 4242 0 -1 4194624 120 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100 18446744073709551615');
    expect(st).toMatchObject({ pid: 4242, comm: 'lxc monitor) x', state: 'S', ppid: 1, startTicks: 987654 });
  });

  it('builds initctl requests and veth names', () => {
    const b = initRequest('0');
    expect(b.length).toBe(384);
    expect(b.readInt32LE(0)).toBe(0x03091969);
    expect(b.readInt32LE(8)).toBe('0'.charCodeAt(0));
    const n = vethNames('0a1b2c3d-0000-4000-8000-000000000000', 3);
    expect(n).toEqual({ host: 'vk0a1b2c3dn3', peer: 'vk0a1b2c3dp3' });
    expect(n.host.length).toBeLessThanOrEqual(15);
  });
});

import { CrRunFilter } from './console.js';

describe('console byte filter', () => {
  it('folds the CRs LXC adds before LF, across chunks, and keeps lone CRs', () => {
    const f = new CrRunFilter();
    const out = Buffer.concat([f.push(Buffer.from('a\r\r')), f.push(Buffer.from('\r\nb\rc\r')), f.push(Buffer.from('\n')), f.flush()]).toString();
    expect(out).toBe('a\r\nb\rc\r\n');
  });
});

import { ipv4Broadcast } from './nics.js';

describe('addresses', () => {
  it('computes IPv4 broadcast addresses', () => {
    expect(ipv4Broadcast('10.254.99.2', 24)).toBe('10.254.99.255');
    expect(ipv4Broadcast('192.168.1.130', 25)).toBe('192.168.1.255');
    expect(ipv4Broadcast('10.0.0.1', 8)).toBe('10.255.255.255');
    expect(ipv4Broadcast('10.0.0.1', 32)).toBe('10.0.0.1');
  });
});
