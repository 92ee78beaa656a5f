import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseNetworkXml } from '@virtkit/core';
import { buildNetworkFirewall, firewallTableFor, modeHasFirewall } from './rules.js';

const net = (inner: string) => parseNetworkXml(`<network><name>n</name><uuid>3e3fce45-4f53-4fa7-bb32-11f34168b82b</uuid>${inner}</network>`);

/** nft's own check (-c: parse and validate against the kernel, change nothing), where nft and root are there. */
function nftAccepts(script: string): boolean | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync('nft', ['-c', '-f', '-'], { input: script, env: { PATH: `${process.env.PATH}:/usr/sbin` } });
  if (r.error) return undefined;
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return true;
}

describe('firewallTableFor', () => {
  it('names the table after the bridge, hashing names nft would not take', () => {
    expect(firewallTableFor('virbr0')).toEqual({ family: 'inet', name: 'virtkit_virbr0' });
    const odd = firewallTableFor('br-lan.10');
    expect(odd.name).toMatch(/^virtkit_br_lan_10_[0-9a-f]{6}$/);
    expect(firewallTableFor('br_lan_10').name).not.toBe(odd.name);
  });
  it('only nat, route and isolated networks have rules', () => {
    expect(['nat', 'route', 'none', 'open', 'bridge'].map(modeHasFirewall)).toEqual([true, true, true, false, false]);
  });
});

describe('buildNetworkFirewall', () => {
  it('NAT: replies in, own subnet out, masquerade with libvirt\'s default port range', () => {
    const script = buildNetworkFirewall(net("<forward mode='nat'/><bridge name='virbr0'/><ip address='192.168.122.1' netmask='255.255.255.0'/>"));
    expect(script).toBe(`table inet virtkit_virbr0
delete table inet virtkit_virbr0
table inet virtkit_virbr0 {
  comment "virtkit network n"
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "virbr0" oifname "virbr0" counter accept
    oifname "virbr0" ip daddr 192.168.122.0/24 ct state related,established counter accept
    iifname "virbr0" ip saddr 192.168.122.0/24 counter accept
    oifname "virbr0" counter reject
    iifname "virbr0" counter reject
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 192.168.122.0/24 ip daddr 224.0.0.0/24 counter return
    ip saddr 192.168.122.0/24 ip daddr 255.255.255.255/32 counter return
    meta l4proto tcp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
    meta l4proto udp ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade to :1024-65535
    ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade
  }
}
`);
    expect(nftAccepts(script)).not.toBe(false);
  });

  it('NAT with an address range, a port range and a forward device; IPv6 routed', () => {
    const script = buildNetworkFirewall(
      net(`<forward mode='nat' dev='eth1'><nat><address start='198.51.100.10' end='198.51.100.20'/><port start='2000' end='3000'/></nat></forward>
        <bridge name='vbr1'/><ip address='10.1.0.1' prefix='16'/><ip family='ipv6' address='2001:db8:1::1' prefix='64'/>`),
    );
    expect(script).toContain('meta l4proto tcp ip saddr 10.1.0.0/16 ip daddr != 10.1.0.0/16 oifname "eth1" counter snat ip to 198.51.100.10-198.51.100.20:2000-3000');
    expect(script).toContain('ip saddr 10.1.0.0/16 ip daddr != 10.1.0.0/16 oifname "eth1" counter snat ip to 198.51.100.10-198.51.100.20\n');
    expect(script).toContain('iifname "eth1" oifname "vbr1" ip daddr 10.1.0.0/16 ct state related,established counter accept');
    expect(script).toContain('iifname "vbr1" ip saddr 10.1.0.0/16 oifname "eth1" counter accept');
    // IPv6 is routed, not NATed.
    expect(script).toContain('iifname "eth1" oifname "vbr1" ip6 daddr 2001:db8:1::/64 counter accept');
    expect(script).not.toMatch(/ip6 saddr .* masquerade/);
    expect(nftAccepts(script)).not.toBe(false);
  });

  it('NAT of IPv6 when <nat ipv6=yes>', () => {
    const script = buildNetworkFirewall(net("<forward mode='nat'><nat ipv6='yes'/></forward><bridge name='v6br'/><ip family='ipv6' address='fd00:1::1' prefix='64'/>"));
    expect(script).toContain('ip6 saddr fd00:1::/64 ip6 daddr ff02::/16 counter return');
    expect(script).toContain('meta l4proto udp ip6 saddr fd00:1::/64 ip6 daddr != fd00:1::/64 counter masquerade to :1024-65535');
    expect(nftAccepts(script)).not.toBe(false);
  });

  it('routed: both directions for the subnet, no NAT', () => {
    const script = buildNetworkFirewall(net("<forward mode='route'/><bridge name='rbr'/><ip address='10.2.0.1' prefix='24'/>"));
    expect(script).toContain('oifname "rbr" ip daddr 10.2.0.0/24 counter accept');
    expect(script).toContain('iifname "rbr" ip saddr 10.2.0.0/24 counter accept');
    expect(script).not.toContain('postrouting');
    expect(nftAccepts(script)).not.toBe(false);
  });

  it('isolated: guests to each other only', () => {
    const script = buildNetworkFirewall(net("<bridge name='ibr'/><ip address='10.3.0.1' prefix='24'/>"));
    expect(script.split('\n').filter((l) => l.startsWith('    ') && !l.includes('type filter'))).toEqual([
      '    iifname "ibr" oifname "ibr" counter accept',
      '    oifname "ibr" counter reject',
      '    iifname "ibr" counter reject',
    ]);
  });

  it('open and bridge networks have no rules', () => {
    expect(buildNetworkFirewall(net("<forward mode='open'/><bridge name='obr'/><ip address='10.4.0.1' prefix='24'/>"))).toBe('');
  });

  it('refuses an inverted port range', () => {
    const def = net("<forward mode='nat'/><bridge name='b'/><ip address='10.5.0.1' prefix='24'/>");
    def.forward!.nat = { portStart: 3000, portEnd: 2000 };
    expect(() => buildNetworkFirewall(def)).toThrow(/port range/);
  });
});
