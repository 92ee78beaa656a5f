import { describe, expect, it } from 'vitest';
import { dnsmasqArgv, processRunsWith } from './process.js';
import { hostSideMac } from '../bridge/guest-devices.js';
import { checkDeviceName } from '../bridge/links.js';

describe('dnsmasq launch', () => {
  it('puts the configuration and the lease file on the command line', () => {
    expect(dnsmasqArgv({ confFile: '/run/n.conf', pidFile: '/run/n.pid', leaseFile: '/var/n.leases' })).toEqual([
      'dnsmasq', '--conf-file=/run/n.conf', '--dhcp-leasefile=/var/n.leases',
    ]);
    expect(dnsmasqArgv({ binary: '/usr/sbin/dnsmasq', confFile: 'c', pidFile: 'p', leaseFile: 'l', user: 'root' })).toEqual([
      '/usr/sbin/dnsmasq', '--conf-file=c', '--dhcp-leasefile=l', '--user=root',
    ]);
  });

  it('recognises a process by its command line', async () => {
    expect(await processRunsWith(process.pid, 'node')).toBe(true);
    expect(await processRunsWith(process.pid, 'no-such-marker-here')).toBe(false);
    expect(await processRunsWith(2 ** 22 + 12345, 'x')).toBe(false);
  });
});

describe('device names and MACs', () => {
  it('gives host ends the guest MAC with 0xFE first, as libvirt', () => {
    expect(hostSideMac('52:54:00:AB:CD:EF')).toBe('fe:54:00:ab:cd:ef');
  });
  it('refuses names the kernel or nft would not take', () => {
    expect(checkDeviceName('virbr0')).toBe('virbr0');
    for (const bad of ['', 'a'.repeat(16), 'a b', 'a/b', 'a:b', 'a"b']) expect(() => checkDeviceName(bad)).toThrow();
  });
});
