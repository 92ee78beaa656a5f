import { describe, expect, it } from 'vitest';
import { VirtError } from './errors.js';
import { formatUri, isRemoteUri, localPartOf, parseUri } from './uri.js';

describe('parseUri', () => {
  it.each([
    ['qemu:///system', { driver: 'qemu', path: '/system' }],
    ['qemu:///session', { driver: 'qemu', path: '/session' }],
    ['lxc:///', { driver: 'lxc', path: '/' }],
    ['xen:///system', { driver: 'xen', path: '/system' }],
    ['test:///default', { driver: 'test', path: '/default' }],
    ['test:///abs/file.xml', { driver: 'test', path: '/abs/file.xml' }],
  ])('reads %s', (text, want) => {
    const u = parseUri(text);
    expect(u).toMatchObject(want);
    expect(u.transport).toBeUndefined();
    expect(u.host).toBeUndefined();
    expect(isRemoteUri(u)).toBe(false);
  });

  it('reads embed roots', () => {
    const u = parseUri('qemu:///embed?root=/tmp/vk%20root');
    expect(u.path).toBe('/embed');
    expect(u.params.root).toBe('/tmp/vk root');
  });

  it('reads ssh URIs with user, port and parameters', () => {
    const u = parseUri('qemu+ssh://root@host.example:2222/system?keyfile=/k/id_ed25519&no_verify=1');
    expect(u).toMatchObject({ driver: 'qemu', transport: 'ssh', user: 'root', host: 'host.example', port: 2222, path: '/system' });
    expect(u.params).toEqual({ keyfile: '/k/id_ed25519', no_verify: '1' });
    expect(isRemoteUri(u)).toBe(true);
    expect(localPartOf(u)).toBe('qemu:///system');
  });

  it.each(['qemu+unix:///system?socket=/run/x.sock', 'qemu+tcp://h/system', 'qemu+tls://h:16514/system', 'test+ssh://u@[::1]:22/default'])(
    'reads the %s transport form',
    (text) => {
      const u = parseUri(text);
      expect(u.transport).toBeDefined();
      expect(isRemoteUri(u)).toBe(true);
    },
  );

  it('treats a host without transport as remote (TLS, as libvirt)', () => {
    expect(isRemoteUri(parseUri('qemu://h/system'))).toBe(true);
  });

  it('reads IPv6 hosts', () => {
    expect(parseUri('qemu+ssh://[fe80::1]:22/system')).toMatchObject({ host: 'fe80::1', port: 22 });
  });

  it.each(['', 'qemu', 'qemu:system', '://x', 'qemu+ssh://h:99999/system', 'qemu:///sys tem', 'qemu+ssh://h;rm -rf/system', 'q%:///x', 'test:///x?__proto__=1'])(
    'refuses %j with INVALID_ARG',
    (text) => {
      expect(() => parseUri(text)).toThrow(VirtError);
      try {
        parseUri(text);
      } catch (e) {
        expect((e as VirtError).code).toBe('INVALID_ARG');
      }
    },
  );

  it('formats back', () => {
    const u = parseUri('qemu+ssh://root@h:2222/system?keyfile=%2Fk');
    expect(formatUri(u)).toBe('qemu+ssh://root@h:2222/system?keyfile=%2Fk');
  });
});
