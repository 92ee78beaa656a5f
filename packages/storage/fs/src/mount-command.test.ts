import { describe, expect, it } from 'vitest';
import { VirtError, parseStoragePoolXml } from '@virtkit/core';
import { buildMountCommand, buildPoolStartCommand, buildUnmountCommand, defaultMountOptions, poolMountSource } from './mount-command.js';

const fsPool = parseStoragePoolXml(`<pool type='fs'><name>f</name><source><device path='/dev/sda6'/><format type='ext3'/></source>
  <target><path>/mnt/fs</path></target></pool>`);
const netfs = (fmt: string, extra = '') =>
  parseStoragePoolXml(`<pool type='netfs' xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'><name>n</name>
    <source><host name='nas'/><dir path='/export'/><format type='${fmt}'/>${extra}</source><target><path>/mnt/n</path></target>
    <fs:mount_opts><fs:option name='sync'/></fs:mount_opts></pool>`);

describe('fs/netfs mount commands', () => {
  it('mounts a block device with its filesystem type and the safe defaults', () => {
    expect(buildPoolStartCommand(fsPool, { platform: 'linux' })).toEqual(['mount', '-o', 'nodev,nosuid,noexec', '-t', 'ext3', '/dev/sda6', '/mnt/fs']);
    expect(buildMountCommand(fsPool, { platform: 'darwin' })).toEqual(['mount', '-t', 'ext3', '/dev/sda6', '/mnt/fs']);
    expect(defaultMountOptions('freebsd')).toBe('nosuid,noexec');
  });

  it('builds NFS, GlusterFS and CIFS mounts with their own options after the defaults', () => {
    expect(buildMountCommand(netfs('nfs', "<protocol ver='4'/>"), { platform: 'linux' })).toEqual([
      'mount', '-o', 'nodev,nosuid,noexec,nfsvers=4,sync', '-t', 'nfs', 'nas:/export', '/mnt/n',
    ]);
    expect(buildMountCommand(netfs('auto'), { platform: 'linux' })).toEqual(['mount', '-o', 'nodev,nosuid,noexec,sync', 'nas:/export', '/mnt/n']);
    expect(buildMountCommand(netfs('glusterfs'), { platform: 'freebsd' })).toEqual([
      'mount', '-o', 'nosuid,noexec,direct-io-mode=1,sync', '-t', 'glusterfs', 'nas:/export', '/mnt/n',
    ]);
    expect(buildMountCommand(netfs('cifs'), { platform: 'linux' })).toEqual([
      'mount', '-o', 'nodev,nosuid,noexec,guest,sync', '-t', 'cifs', '//nas//export', '/mnt/n',
    ]);
    expect(poolMountSource(netfs('nfs'))).toBe('nas:/export');
  });

  it('unmounts the target and refuses pools that are not mounted', () => {
    expect(buildUnmountCommand(fsPool)).toEqual(['umount', '/mnt/fs']);
    const dir = parseStoragePoolXml(`<pool type='dir'><name>d</name><target><path>/d</path></target></pool>`);
    expect(() => buildPoolStartCommand(dir)).toThrow(VirtError);
    const twoHosts = parseStoragePoolXml(`<pool type='netfs'><name>n</name><source><host name='a'/><host name='b'/><dir path='/e'/></source><target><path>/m</path></target></pool>`);
    expect(() => buildMountCommand(twoHosts)).toThrow(/exactly 1 host/);
  });
});
