import { describe, expect, it } from 'vitest';
import { VirtError } from '@virtkit/core';
import { convertLxcSize, lxcConfigToDomainDef } from './from-native.js';
import { lxcParserConfig } from '../domain-xml.js';

const config = lxcParserConfig('x86_64');
const base = 'lxc.rootfs.path = /srv/c1/rootfs\nlxc.uts.name = c1\n';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VirtError);
    return (e as VirtError).code;
  }
  return undefined;
}

describe('domxml-from-native lxc-tools', () => {
  it('reads LXC 3.0 and legacy keys to the same definition', () => {
    const v3 = `${base}lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.hwaddr = 02:00:00:00:00:01\nlxc.net.0.ipv4.address = 10.0.0.2/24\nlxc.net.0.flags = up\nlxc.tty.max = 1\n`;
    const legacy = 'lxc.rootfs = /srv/c1/rootfs\nlxc.utsname = c1\nlxc.network.type = veth\nlxc.network.link = br0\nlxc.network.hwaddr = 02:00:00:00:00:01\nlxc.network.ipv4 = 10.0.0.2/24\nlxc.network.flags = up\nlxc.tty = 1\n';
    const a = lxcConfigToDomainDef(v3, { config });
    const b = lxcConfigToDomainDef(legacy, { config });
    b.uuid = a.uuid;
    const fa = JSON.stringify({ ...a, namespaceData: undefined });
    const fb = JSON.stringify({ ...b, namespaceData: undefined });
    expect(fa).toBe(fb);
    expect(a.devices.interfaces[0]).toMatchObject({ type: 'bridge', bridge: 'br0', mac: '02:00:00:00:00:01', linkState: 'up' });
    expect(a.devices.consoles).toHaveLength(1);
    expect(a.name).toBe('c1');
    expect(a.memory.total).toBe(65536);
  });

  it('turns tmpfs mount entries into RAM filesystems and skips the basic mounts', () => {
    const def = lxcConfigToDomainDef(`${base}lxc.mount.entry = proc proc proc nodev 0 0\nlxc.mount.entry = tmpfs run tmpfs size=2m 0 0\nlxc.mount.entry = /data srv/data none bind,ro 0 0\n`, { config });
    expect(def.devices.filesystems.map((f) => [f.type, f.dst, f.usage, f.readonly ?? false])).toEqual([
      ['mount', '/', undefined, false],
      ['ram', '/run', 2048, false],
      ['mount', '/srv/data', undefined, true],
    ]);
  });

  it('maps memory, CPU and idmap settings', () => {
    const def = lxcConfigToDomainDef(`${base}lxc.cgroup.memory.limit_in_bytes = 256M\nlxc.cgroup.cpu.shares = 512\nlxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n`, { config });
    expect(def.memory.total).toBe(262144);
    expect(def.memtune?.hardLimit).toBe(262144);
    expect(def.cputune?.shares).toBe(512);
    // libvirt reads `u A B N` as target A, start B (the reverse of LXC's own meaning); kept as libvirt does.
    expect(def.idmap?.uid).toEqual([{ start: 100000, target: 0, count: 65536 }]);
    expect(def.idmap?.gid).toEqual([{ start: 100000, target: 0, count: 65536 }]);
    expect(def.features?.states.privnet).toBe(true);
  });

  it('refuses what libvirt refuses', () => {
    expect(code(() => lxcConfigToDomainDef(`${base}lxc.mount.fstab = /etc/fstab\n`, { config }))).toBe('ARGUMENT_UNSUPPORTED');
    expect(code(() => lxcConfigToDomainDef('lxc.uts.name = x\n', { config }))).toBe('CONFIG_UNSUPPORTED');
    expect(code(() => lxcConfigToDomainDef(`${base}lxc.net.0.type = veth\nlxc.net.0.ipv4.address = 10.0.0.300/24\n`, { config }))).toBe('INVALID_ARG');
    expect(code(() => lxcConfigToDomainDef(`${base}lxc.network.link = br0\n`, { config }))).toBe('CONF_SYNTAX');
    expect(code(() => lxcConfigToDomainDef(`${base}lxc.net.0.type = veth\nlxc.net.0.script.up = /bin/true\n`, { config }))).toBe('CONFIG_UNSUPPORTED');
    expect(code(() => lxcConfigToDomainDef(`${base}lxc.mount.entry = tmpfs run tmpfs mode=0755 0 0\n`, { config }))).toBe('CONF_SYNTAX');
    expect(code(() => lxcConfigToDomainDef(`${base}lxc.arch = aarch64\n`, { config }))).toBe('INVALID_ARG');
    expect(code(() => lxcConfigToDomainDef(`${base}lxc.net.0.type = phys\n`, { config }))).toBe('CONFIG_UNSUPPORTED');
  });

  it('converts sizes as virScaleInteger does', () => {
    expect(convertLxcSize('8m')).toBe(8n * 1024n * 1024n);
    expect(convertLxcSize('1G')).toBe(1024n ** 3n);
    expect(convertLxcSize('100MB')).toBe(100_000_000n);
    expect(convertLxcSize('42')).toBe(42n);
    expect(code(() => convertLxcSize('50%'))).toBe('CONF_SYNTAX');
    expect(code(() => convertLxcSize('12q'))).toBe('CONF_SYNTAX');
  });
});
