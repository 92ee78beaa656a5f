import { describe, expect, it } from 'vitest';
import { parseNetworkXml } from '@virtkit/core';
import { leasesForNetwork, macFromDuid, parseDnsmasqLeases } from './leases.js';

const FILE = `1795674153 52:54:00:aa:bb:01 10.250.0.198 client1 01:52:54:00:aa:bb:01
0 52:54:00:aa:bb:02 10.250.0.20 * *
duid 00:01:00:01:2c:5e:4f:11:52:54:00:00:00:01
1795674200 1234 2001:db8::10 v6host 00:01:00:01:2c:5e:4f:11:52:54:00:aa:bb:03
1795674200 99 2001:db8::11 * 00:02:00:00:ab:11:01:02:03:04
`;

describe('dnsmasq lease file', () => {
  it('parses IPv4 and IPv6 leases', () => {
    const r = parseDnsmasqLeases(FILE);
    expect(r).toHaveLength(4);
    expect(r[0]).toEqual({ expiry: 1795674153, type: 'ipv4', mac: '52:54:00:aa:bb:01', ip: '10.250.0.198', hostname: 'client1', clientId: '01:52:54:00:aa:bb:01' });
    expect(r[1]).toEqual({ expiry: 0, type: 'ipv4', mac: '52:54:00:aa:bb:02', ip: '10.250.0.20' });
    expect(r[2]).toMatchObject({ type: 'ipv6', iaid: '1234', mac: '52:54:00:aa:bb:03', hostname: 'v6host' });
    expect(r[3]).not.toHaveProperty('mac');
  });

  it('takes the MAC from link-layer DUIDs only', () => {
    expect(macFromDuid('00:03:00:01:52:54:00:12:34:56')).toBe('52:54:00:12:34:56');
    expect(macFromDuid('00:01:00:01:2c:5e:4f:11:52:54:00:12:34:56')).toBe('52:54:00:12:34:56');
    expect(macFromDuid('00:02:00:00:ab:11:01:02:03:04')).toBeUndefined();
  });

  it('reports leases as libvirt does: prefix of the network, the bridge, leases without a MAC left out', () => {
    const def = parseNetworkXml(`<network><name>n</name><bridge name='vbr'/><ip address='10.250.0.1' netmask='255.255.255.0'/><ip family='ipv6' address='2001:db8::1' prefix='64'/></network>`);
    const leases = leasesForNetwork(def, parseDnsmasqLeases(FILE));
    expect(leases.map((l) => [l.mac, l.ipaddr, l.prefix, l.type, l.iface])).toEqual([
      ['52:54:00:aa:bb:01', '10.250.0.198', 24, 'ipv4', 'vbr'],
      ['52:54:00:aa:bb:02', '10.250.0.20', 24, 'ipv4', 'vbr'],
      ['52:54:00:aa:bb:03', '2001:db8::10', 64, 'ipv6', 'vbr'],
    ]);
    expect(leases[2]!.iaid).toBe('1234');
  });

  it('ignores garbage', () => {
    expect(parseDnsmasqLeases('\nnot a lease\nx y\n')).toEqual([]);
  });
});
