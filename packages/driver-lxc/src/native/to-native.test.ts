import { describe, expect, it } from 'vitest';
import { VirtError } from '@virtkit/core';
import { parseCgroupMounts } from '../host/cgroups.js';
import { parseLxcDomain, lxcParserConfig } from '../domain-xml.js';
import { buildLxcConfig, containerHostname } from './to-native.js';

const config = lxcParserConfig('x86_64');
const v1 = parseCgroupMounts(
  [
    '30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu',
    '31 25 0:27 / /sys/fs/cgroup/memory rw,relatime shared:10 - cgroup cgroup rw,memory',
    '32 25 0:28 / /sys/fs/cgroup/cpuset rw,relatime shared:11 - cgroup cgroup rw,cpuset',
    '33 25 0:29 / /sys/fs/cgroup/unified rw,relatime shared:12 - cgroup2 cgroup2 rw',
  ].join('\n'),
);
const v2 = parseCgroupMounts('28 25 0:25 / /sys/fs/cgroup rw,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate', 'cpuset cpu io memory pids');

function def(extra = '', devices = '', name = 'web 1') {
  return parseLxcDomain(
    `<domain type='lxc'><name>${name}</name><uuid>11111111-2222-4333-8444-555555555555</uuid><memory unit='MiB'>128</memory>
${extra}<os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>echo a b</initarg><initenv name='FOO'>bar baz</initenv><initdir>/srv</initdir></os>
<devices><filesystem type='mount'><source dir='/var/lib/c/root fs'/><target dir='/'/></filesystem>${devices}<console type='pty'/><console type='pty'/></devices></domain>`,
    { config },
  );
}

const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

describe('domain XML → LXC config', () => {
  it('writes root, mounts, hostname, init and environment', () => {
    const d = def('', `<filesystem type='mount'><source dir='/srv/data'/><target dir='/mnt/my data'/><readonly/></filesystem>
<filesystem type='ram'><source usage='16' units='MiB'/><target dir='/run'/></filesystem>`);
    const c = buildLxcConfig(d, { layout: v1 });
    const l = lines(c.text);
    expect(l).toContain('lxc.rootfs.path = dir:/var/lib/c/root fs');
    expect(l).toContain('lxc.uts.name = web1');
    expect(l).toContain('lxc.mount.entry = /srv/data mnt/my\\040data none bind,create=dir,ro 0 0');
    expect(l).toContain('lxc.mount.entry = tmpfs run tmpfs size=16384k,mode=0755,create=dir 0 0');
    expect(l).toContain('lxc.environment = FOO=bar baz');
    expect(l).toContain('lxc.environment = LIBVIRT_LXC_NAME=web 1');
    expect(l).toContain('lxc.init.cwd = /srv');
    expect(l).toContain('lxc.tty.max = 1');
    // No NIC and no privnet: the host's network, as libvirt does.
    expect(l).toContain('lxc.net.0.type = none');
    expect(c.argv).toEqual(['/bin/sh', '-c', 'echo a b']);
    expect(l.some((x) => x.startsWith('lxc.init.cmd'))).toBe(false);
  });

  it('picks cgroup v1 or v2 keys for limits', () => {
    const extra = `<memtune><hard_limit unit='MiB'>64</hard_limit></memtune><vcpu cpuset='0-1'>1</vcpu><cputune><shares>512</shares><period>100000</period><quota>50000</quota></cputune>`;
    const a = lines(buildLxcConfig(def(extra), { layout: v1 }).text);
    expect(a).toContain(`lxc.cgroup.memory.limit_in_bytes = ${64 * 1024 * 1024}`);
    expect(a).toContain('lxc.cgroup.cpu.shares = 512');
    expect(a).toContain('lxc.cgroup.cpu.cfs_quota_us = 50000');
    expect(a).toContain('lxc.cgroup.cpuset.cpus = 0-1');
    const b = lines(buildLxcConfig(def(extra), { layout: v2 }).text);
    expect(b).toContain(`lxc.cgroup2.memory.max = ${64 * 1024 * 1024}`);
    expect(b).toContain('lxc.cgroup2.cpu.weight = 20');
    expect(b).toContain('lxc.cgroup2.cpu.max = 50000 100000');
    expect(b).toContain('lxc.cgroup2.cpuset.cpus = 0-1');
  });

  it('maps idmap, capabilities, shared namespaces and privnet', () => {
    const extra = `<idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>
<features><privnet/><capabilities policy='allow'><mknod state='off'/></capabilities></features>`;
    const d = parseLxcDomain(
      `<domain type='lxc' xmlns:lxc='http://libvirt.org/schemas/domain/lxc/1.0'><name>c</name><memory>65536</memory>${extra}<os><type>exe</type><init>/sbin/init</init></os>
<devices><filesystem type='mount'><source dir='/r'/><target dir='/'/></filesystem></devices>
<lxc:namespace><lxc:shareuts type='pid' value='1'/></lxc:namespace></domain>`,
      { config },
    );
    const l = lines(buildLxcConfig(d, { layout: v1 }).text);
    expect(l).toContain('lxc.idmap = u 0 100000 65536');
    expect(l).toContain('lxc.idmap = g 0 100000 65536');
    expect(l).toContain('lxc.cap.drop = mknod');
    expect(l).toContain('lxc.namespace.share.uts = /proc/1/ns/uts');
    expect(l).toContain('lxc.net.0.type = empty');
    expect(l.some((x) => x.startsWith('lxc.uts.name'))).toBe(false);
    expect(l).toContain('lxc.init.cmd = /sbin/init');
  });

  it('writes standalone veth lines for domxml-to-native', () => {
    const d = def('', `<interface type='bridge'><mac address='52:54:00:aa:bb:cc'/><source bridge='br0'/><ip address='10.1.0.5' prefix='16'/></interface>`);
    const l = lines(buildLxcConfig(d, { layout: v1 }).text);
    expect(l).toEqual(expect.arrayContaining(['lxc.net.0.type = veth', 'lxc.net.0.link = br0', 'lxc.net.0.hwaddr = 52:54:00:aa:bb:cc', 'lxc.net.0.name = eth0', 'lxc.net.0.ipv4.address = 10.1.0.5/16']));
  });

  it('refuses what LXC cannot do, naming the domain', () => {
    const bad = def('', `<filesystem type='file'><source file='/x.img'/><target dir='/img'/></filesystem>`);
    expect(() => buildLxcConfig(bad, { layout: v1 })).toThrow(VirtError);
    try {
      buildLxcConfig(bad, { layout: v1 });
    } catch (e) {
      expect((e as VirtError).code).toBe('CONFIG_UNSUPPORTED');
      expect((e as VirtError).message).toContain("domain 'web 1'");
    }
    const noMem = parseCgroupMounts('33 25 0:29 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', 'pids');
    expect(() => buildLxcConfig(def(), { layout: noMem })).toThrow(/memory/);
    const env = parseLxcDomain(
      `<domain type='lxc'><name>e</name><memory>65536</memory><os><type>exe</type><init>/bin/sh</init><initenv name='X'>a&#10;b</initenv></os><devices><filesystem type='mount'><source dir='/r'/><target dir='/'/></filesystem></devices></domain>`,
      { config },
    );
    expect(() => buildLxcConfig(env, { layout: v1 })).toThrow(/line break/);
  });

  it('derives hostnames as libvirt does', () => {
    expect(containerHostname('web_1.example')).toBe('web1example');
    expect(containerHostname('-db')).toBe('db');
  });
});
