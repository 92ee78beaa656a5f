import { describe, expect, it } from 'vitest';
import type { VirtError } from '@virtkit/core';
import { parseDaemonConfig, parseHostPort } from './config.js';
import { resolveServedUri } from './connections.js';
import { dnAllowed, formatDn } from './tls-allow.js';

describe('virtkitd.conf', () => {
  it('reads every kind of setting', () => {
    const c = parseDaemonConfig(`# virtkitd
listen_tls = "127.0.0.1:16514"
tcp_readonly = 0
unix_sock_ro_perms = "0660"
tls_allowed_dn_list = [ "O=Example,CN=*", "client1" ]
max_clients = 10
keepalive_interval = 0
log_level = "debug"
`);
    expect(c.listenTls).toBe('127.0.0.1:16514');
    expect(c.tcpReadonly).toBe(false);
    expect(c.unixSockRoPerms).toBe(0o660);
    expect(c.tlsAllowedDnList).toEqual(['O=Example,CN=*', 'client1']);
    expect(c.maxClients).toBe(10);
    expect(c.keepaliveInterval).toBe(0);
    expect(c.logLevel).toBe('debug');
    expect(c.maxClientRequests).toBe(256);
  });

  it.each([
    ['listen_tsl = "x"', /not a virtkitd setting/],
    ['max_clients = "10"', /must be an integer/],
    ['unix_sock_rw_perms = "rw"', /octal mode/],
    ['log_level = "loud"', /debug, info, warn or error/],
    ['max_clients = ', /./],
  ])('refuses %s', (text, msg) => {
    try {
      parseDaemonConfig(text, 'test.conf');
      throw new Error('accepted');
    } catch (err) {
      expect((err as VirtError).code).toBe('CONF_SYNTAX');
      expect((err as Error).message).toMatch(msg);
    }
  });

  it('reads HOST:PORT forms', () => {
    expect(parseHostPort('127.0.0.1:1', 'x', 5)).toEqual({ host: '127.0.0.1', port: 1 });
    expect(parseHostPort('[::1]:16514', 'x', 5)).toEqual({ host: '::1', port: 16514 });
    expect(parseHostPort('host', 'x', 5)).toEqual({ host: 'host', port: 5 });
    expect(() => parseHostPort('h:99999', 'x', 5)).toThrow(/HOST:PORT/);
  });
});

describe('TLS allow-list', () => {
  const subject = { C: 'GB', O: 'Example', CN: 'client1.example.com' } as never;
  it('matches DNs in either order and bare CNs, with globs', () => {
    expect(formatDn(subject)).toBe('C=GB,O=Example,CN=client1.example.com');
    expect(dnAllowed(subject, [])).toBe(true);
    expect(dnAllowed(subject, ['C=GB,O=Example,CN=client1.example.com'])).toBe(true);
    expect(dnAllowed(subject, ['CN=client1.example.com,O=Example,C=GB'])).toBe(true);
    expect(dnAllowed(subject, ['C=GB,O=Example,CN=*.example.com'])).toBe(true);
    expect(dnAllowed(subject, ['client?.example.com'])).toBe(true);
    expect(dnAllowed(subject, ['C=GB,O=Other,CN=*', 'client2.example.com'])).toBe(false);
    expect(dnAllowed(undefined, ['*'])).toBe(false);
  });
});

describe('served URIs', () => {
  it('maps family paths under --root and refuses other hosts and roots', () => {
    expect(resolveServedUri('qemu:///system', '/srv/vk')).toBe('qemu:///embed?root=%2Fsrv%2Fvk');
    expect(resolveServedUri('lxc:///', '/srv/vk')).toBe('lxc:///embed?root=%2Fsrv%2Fvk');
    expect(resolveServedUri('qemu:///embed?root=/srv/vk/', '/srv/vk')).toBe('qemu:///embed?root=/srv/vk/');
    expect(resolveServedUri('test:///default', '/srv/vk')).toBe('test:///default');
    expect(resolveServedUri('qemu:///system')).toBe('qemu:///system');
    expect(() => resolveServedUri('qemu:///embed?root=/etc', '/srv/vk')).toThrow(/serves the state under \/srv\/vk only/);
    expect(() => resolveServedUri('qemu+tcp://h/system')).toThrow(/relays nowhere|another host/);
  });
});
