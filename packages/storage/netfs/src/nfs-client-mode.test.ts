import { describe, expect, it } from 'vitest';
import { VirtError, formatPoolOptionsXml, parseStoragePoolXml } from '@virtkit/core';
import { nfsClientMode } from './nfs-client-mode.js';
import { nfsVolumeUrl } from './userspace-volumes.js';

const pool = (format: string, client?: string) =>
  parseStoragePoolXml(
    `<pool type='netfs'><name>n</name><source><host name='nas'/><dir path='/srv/vms'/><format type='${format}'/></source>` +
      `<target><path>/mnt/n</path></target>${client ? formatPoolOptionsXml({ client }) : ''}</pool>`,
  );

describe('netfs: kernel or user-space NFS client', () => {
  it('auto picks the kernel where it can mount NFS, else user space', () => {
    expect(nfsClientMode(pool('nfs'), () => true)).toBe('kernel');
    expect(nfsClientMode(pool('nfs'), () => false)).toBe('userspace');
    expect(nfsClientMode(pool('auto', 'auto'), () => false)).toBe('userspace');
    expect(nfsClientMode(pool('nfs', 'kernel'), () => false)).toBe('kernel');
    expect(nfsClientMode(pool('nfs', 'userspace'), () => true)).toBe('userspace');
    expect(nfsClientMode(pool('cifs'), () => false)).toBe('kernel');
    expect(() => nfsClientMode(pool('glusterfs', 'userspace'))).toThrow(VirtError);
    expect(() => nfsClientMode(pool('nfs', 'fuse'))).toThrow(VirtError);
  });

  it('names user-space volumes by nfs:// URLs', () => {
    expect(nfsVolumeUrl(pool('nfs'), 'disk 1.qcow2')).toBe('nfs://nas/srv/vms/disk%201.qcow2');
  });
});
