import { describe, expect, it } from 'vitest';
import { VirtError, type ErrorCode } from '../../errors.js';
import { formatNetworkXml, NETWORK_XML_INACTIVE } from './format.js';
import { ensureBridgeMac } from './mac.js';
import { parseNetworkXml } from './parse.js';
import type { NetworkDef } from './types.js';
import { validateNetworkDef } from './validate.js';

const roundTrip = (xml: string, inactive = false) => formatNetworkXml(parseNetworkXml(xml), { inactive });

function expectCode(fn: () => unknown, code: ErrorCode, text?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VirtError);
    expect((e as VirtError).code).toBe(code);
    if (text) expect((e as VirtError).message).toMatch(text);
    return;
  }
  expect.unreachable(`expected a ${code} rejection`);
}

const UUID = '0f3a1a47-4d5c-4a8e-9b5e-2c7d1e6f8a90';

describe('network XML round trip', () => {
  it('normalises a NAT network the way libvirt prints it', () => {
    const xml = `<network>
  <name>lab</name>
  <uuid>${UUID.toUpperCase()}</uuid>
  <bridge name="vkbr0"/>
  <mac address="52:54:00:AB:CD:EF"/>
  <forward mode="nat" dev="enp1s0"/>
  <ip address="10.77.0.1" netmask="255.255.255.0">
    <dhcp>
      <range start="10.77.0.100" end="10.77.0.199"/>
      <host mac="52:54:00:00:00:0A" name="db" ip="10.77.0.10"/>
    </dhcp>
  </ip>
  <ip family="ipv6" address="FD00:77:0:0::1" prefix="64"/>
</network>`;
    expect(roundTrip(xml)).toBe(`<network>
  <name>lab</name>
  <uuid>${UUID}</uuid>
  <forward dev='enp1s0' mode='nat'>
    <interface dev='enp1s0'/>
  </forward>
  <bridge name='vkbr0' stp='on' delay='0'/>
  <mac address='52:54:00:ab:cd:ef'/>
  <ip address='10.77.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.77.0.100' end='10.77.0.199'/>
      <host mac='52:54:00:00:00:0A' name='db' ip='10.77.0.10'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:77::1' prefix='64'>
  </ip>
</network>
`);
  });

  it('writes an isolated network with DNS records, a domain, leases and routes', () => {
    const xml = `<network trustGuestRxFilters='yes'>
  <name>iso</name>
  <uuid>${UUID}</uuid>
  <bridge name='vkbr9' stp='off' delay='2' zone='trusted'/>
  <mtu size='1400'/>
  <domain name='iso.test' localOnly='yes'/>
  <dns forwardPlainNames='no'>
    <host ip='10.9.0.5'><hostname>a</hostname><hostname>b</hostname></host>
    <txt name='k' value='v &amp; w'/>
    <forwarder domain='corp' addr='10.0.0.53'/>
    <srv service='ldap' protocol='tcp' target='dc.iso.test' port='389' weight='5'/>
  </dns>
  <ip address='10.9.0.1' prefix='24' localPtr='yes'>
    <tftp root='/srv/tftp'/>
    <dhcp>
      <range start='10.9.0.10' end='10.9.0.20'><lease expiry='1' unit='hours'/></range>
      <host name='pxe' ip='10.9.0.30'><lease expiry='0'/></host>
      <bootp file='pxelinux.0' server='10.9.0.1'/>
    </dhcp>
  </ip>
  <route address='10.99.0.0' prefix='16' gateway='10.9.0.254' metric='5'/>
</network>`;
    expect(roundTrip(xml)).toBe(`<network trustGuestRxFilters='yes'>
  <name>iso</name>
  <uuid>${UUID}</uuid>
  <bridge name='vkbr9' zone='trusted' stp='off' delay='2'/>
  <mtu size='1400'/>
  <domain name='iso.test' localOnly='yes'/>
  <dns forwardPlainNames='no'>
    <forwarder domain='corp' addr='10.0.0.53'/>
    <txt name='k' value='v &amp; w'/>
    <srv service='ldap' protocol='tcp' target='dc.iso.test' port='389' weight='5'/>
    <host ip='10.9.0.5'>
      <hostname>a</hostname>
      <hostname>b</hostname>
    </host>
  </dns>
  <ip address='10.9.0.1' prefix='24' localPtr='yes'>
    <tftp root='/srv/tftp'/>
    <dhcp>
      <range start='10.9.0.10' end='10.9.0.20'>
        <lease expiry='1' unit='hours'/>
      </range>
      <host name='pxe' ip='10.9.0.30'>
        <lease expiry='0'/>
      </host>
      <bootp file='pxelinux.0' server='10.9.0.1'/>
    </dhcp>
  </ip>
  <route address='10.99.0.0' prefix='16' gateway='10.9.0.254' metric='5'/>
</network>
`);
  });

  it('is stable: formatting what it formatted gives the same text', () => {
    const docs = [
      `<network><name>a</name><uuid>${UUID}</uuid><forward mode='route' dev='eth0'/><ip address='192.168.5.1' netmask='255.255.255.0'/></network>`,
      `<network><name>b</name><uuid>${UUID}</uuid><forward mode='bridge'/><bridge name='br0' macTableManager='libvirt'/><port isolated='yes'/></network>`,
      `<network><name>c</name><uuid>${UUID}</uuid><forward mode='hostdev' managed='yes'><driver name='vfio'/><address type='pci' domain='0' bus='3' slot='0' function='1'/></forward></network>`,
      `<network ipv6='yes'><name>d</name><uuid>${UUID}</uuid><bridge name='vkbr7'/><bandwidth><inbound average='1000' peak='5000' burst='1024'/></bandwidth></network>`,
    ];
    for (const d of docs) {
      const once = roundTrip(d);
      expect(roundTrip(once), d).toBe(once);
    }
  });

  it('writes forward pools, portgroups, vlans and virtual ports in libvirt order', () => {
    const out = roundTrip(`<network>
  <name>ovs</name><uuid>${UUID}</uuid>
  <forward mode='bridge'/>
  <bridge name='ovsbr0'/>
  <virtualport type='openvswitch'><parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/></virtualport>
  <vlan trunk='yes'><tag id='42'/><tag id='47' nativeMode='untagged'/></vlan>
  <portgroup name='web' default='yes' trustGuestRxFilters='no'>
    <virtualport><parameters profileid='web'/></virtualport>
    <vlan><tag id='10'/></vlan>
    <bandwidth><outbound average='100'/></bandwidth>
  </portgroup>
</network>`);
    expect(out).toBe(`<network>
  <name>ovs</name>
  <uuid>${UUID}</uuid>
  <forward mode='bridge'/>
  <bridge name='ovsbr0'/>
  <vlan trunk='yes'>
    <tag id='42'/>
    <tag id='47' nativeMode='untagged'/>
  </vlan>
  <virtualport type='openvswitch'>
    <parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/>
  </virtualport>
  <portgroup name='web' default='yes' trustGuestRxFilters='no'>
    <vlan>
      <tag id='10'/>
    </vlan>
    <virtualport>
      <parameters profileid='web'/>
    </virtualport>
    <bandwidth>
      <outbound average='100'/>
    </bandwidth>
  </portgroup>
</network>
`);
  });

  it('hides runtime data and the VF pool of a pf network in inactive XML', () => {
    const def = parseNetworkXml(`<network><name>sriov</name><uuid>${UUID}</uuid><forward mode='passthrough'><pf dev='ens1f0'/></forward></network>`);
    def.connections = 2;
    def.forward!.interfaces.push({ dev: 'ens1f0v0', connections: 1 }, { dev: 'ens1f0v1' });
    const live = formatNetworkXml(def);
    expect(live).toContain("<network connections='2'>");
    expect(live).toContain("<interface dev='ens1f0v0' connections='1'/>");
    expect(live).not.toContain("dev='ens1f0v0' mode");
    const inactive = formatNetworkXml(def, { flags: NETWORK_XML_INACTIVE });
    expect(inactive).toBe(`<network>
  <name>sriov</name>
  <uuid>${UUID}</uuid>
  <forward mode='passthrough'>
    <pf dev='ens1f0'/>
  </forward>
</network>
`);
  });

  it('keeps unknown elements and attributes and writes them back', () => {
    const out = roundTrip(`<network vendor='acme'>
  <name>k</name><uuid>${UUID}</uuid>
  <bridge name='vkbr3' flavour='x'/>
  <ip address='10.3.0.1' prefix='24' scope='global'>
    <dhcp hint='1'><range start='10.3.0.2' end='10.3.0.9'/><pool size='3'/></dhcp>
    <note>keep me</note>
  </ip>
  <title>Lab network</title>
  <acme:extra xmlns:acme='urn:acme'><acme:v n='1'/></acme:extra>
</network>`);
    expect(out).toContain("<network vendor='acme'>");
    expect(out).toContain("<bridge name='vkbr3' stp='on' delay='0' flavour='x'/>");
    expect(out).toContain("<ip address='10.3.0.1' prefix='24' scope='global'>");
    expect(out).toContain("    <dhcp hint='1'>\n      <range start='10.3.0.2' end='10.3.0.9'/>\n      <pool size='3'/>\n    </dhcp>\n    <note>keep me</note>\n  </ip>");
    expect(out).toContain('  <title>Lab network</title>\n');
    expect(out).toContain("  <acme:extra xmlns:acme='urn:acme'>\n    <acme:v n='1'/>\n  </acme:extra>\n</network>");
    expect(roundTrip(out)).toBe(out);
  });

  it('keeps <metadata> as libvirt does: namespaced children only, one per namespace, libxml2 style', () => {
    const out = roundTrip(`<network xmlns:a='urn:a'>
  <name>m</name><uuid>${UUID}</uuid>
  <metadata>
    <a:info rev="2">x &lt; y</a:info>
    <b:info xmlns:b="urn:b"><b:deep k='é'/></b:info>
    <plain/>
    <a:second/>
  </metadata>
</network>`);
    expect(out).toBe(`<network>
  <name>m</name>
  <uuid>${UUID}</uuid>
  <metadata xmlns:a="urn:a">
    <a:info rev="2">x &lt; y</a:info>
    <b:info xmlns:b="urn:b">
      <b:deep k="&#xE9;"/>
    </b:info>
  </metadata>
  <bridge stp='on' delay='0'/>
</network>
`);
    expect(roundTrip(`<network><name>m</name><uuid>${UUID}</uuid><metadata>  </metadata></network>`)).not.toContain('metadata');
  });

  it('reads <dnsmasq:options> by namespace and writes them with the dnsmasq prefix', () => {
    const def = parseNetworkXml(`<network xmlns:d='http://libvirt.org/schemas/network/dnsmasq/1.0'>
  <name>o</name><uuid>${UUID}</uuid><bridge name='vkbr1'/>
  <d:options><d:option value='log-queries'/><d:option value="address=/x/1.2.3.4"/></d:options>
</network>`);
    expect(def.dnsmasqOptions).toEqual(['log-queries', 'address=/x/1.2.3.4']);
    const out = formatNetworkXml(def);
    expect(out.startsWith("<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>\n")).toBe(true);
    expect(out).toContain("  <dnsmasq:options>\n    <dnsmasq:option value='log-queries'/>\n    <dnsmasq:option value='address=/x/1.2.3.4'/>\n  </dnsmasq:options>\n</network>");
    // A declaration without options adds nothing.
    expect(roundTrip(`<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>o</name><uuid>${UUID}</uuid></network>`)).toMatch(/^<network>\n/);
  });

  it('generates a UUID when none is given', () => {
    const def = parseNetworkXml('<network><name>n</name></network>', { generateUuid: () => UUID });
    expect(def.uuid).toBe(UUID);
    expect(parseNetworkXml('<network><name>n</name></network>').uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
  });
});

describe('network XML rejects', () => {
  const net = (body: string, attrs = '') => `<network${attrs}><name>r</name><uuid>${UUID}</uuid>${body}</network>`;
  const cases: Array<[string, string, ErrorCode, RegExp?]> = [
    ['missing name', '<network><uuid>' + UUID + '</uuid></network>', 'XML_ERROR', /name/],
    ['wrong root', '<domain><name>x</name></domain>', 'XML_ERROR', /expecting <network>/],
    ['slash in name', '<network><name>a/b</name></network>', 'XML_ERROR'],
    ['bad uuid', '<network><name>a</name><uuid>nope</uuid></network>', 'XML_ERROR', /uuid/],
    ['DTD', '<!DOCTYPE network [<!ENTITY x "y">]><network><name>&x;</name></network>', 'XML_ERROR'],
    ['range outside subnet', net("<ip address='192.168.1.1' netmask='255.255.255.0'><dhcp><range start='192.168.2.2' end='192.168.2.9'/></dhcp></ip>"), 'XML_ERROR', /not entirely within/],
    ['reversed range', net("<ip address='192.168.1.1' prefix='24'><dhcp><range start='192.168.1.9' end='192.168.1.2'/></dhcp></ip>"), 'XML_ERROR', /reversed/],
    ['range on the broadcast address', net("<ip address='192.168.1.1' prefix='24'><dhcp><range start='192.168.1.2' end='192.168.1.255'/></dhcp></ip>"), 'XML_ERROR', /broadcast/],
    ['invalid address', net("<ip address='192.168.1.300' prefix='24'/>"), 'XML_ERROR', /Invalid address/],
    ['IPv6 with netmask', net("<ip family='ipv6' address='fd00::1' netmask='255.255.255.0'/>"), 'CONFIG_UNSUPPORTED'],
    ['family mismatch', net("<ip family='ipv6' address='10.0.0.1'/>"), 'CONFIG_UNSUPPORTED'],
    ['prefix and netmask', net("<ip address='10.0.0.1' netmask='255.0.0.0' prefix='8'/>"), 'CONFIG_UNSUPPORTED'],
    ['prefix too long', net("<ip address='10.0.0.1' prefix='33'/>"), 'CONFIG_UNSUPPORTED'],
    ['unknown family', net("<ip family='ipx' address='10.0.0.1'/>"), 'XML_ERROR'],
    ['lease too short', net("<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'><lease expiry='60' unit='seconds'/></range></dhcp></ip>"), 'CONFIG_UNSUPPORTED'],
    ['host without ip', net("<ip address='10.0.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:01' name='a'/></dhcp></ip>"), 'XML_ERROR', /Missing IP/],
    ['multicast host mac', net("<ip address='10.0.0.1' prefix='24'><dhcp><host mac='01:00:5e:00:00:01' ip='10.0.0.5'/></dhcp></ip>"), 'XML_ERROR', /multicast/],
    ['mac on an IPv6 host', net("<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><host mac='52:54:00:00:00:01' ip='fd00::5'/></dhcp></ip>"), 'XML_ERROR'],
    ['tftp on IPv6', net("<ip family='ipv6' address='fd00::1' prefix='64'><tftp root='/x'/></ip>"), 'CONFIG_UNSUPPORTED'],
    ['nat without ip', net("<forward mode='nat'/>"), 'XML_ERROR', /no IP address/],
    ['nat element in route mode', net("<forward mode='route'><nat/></forward><ip address='10.0.0.1' prefix='24'/>"), 'XML_ERROR'],
    ['nat address range too wide', net("<forward mode='nat'><nat><address start='10.0.0.1' end='10.1.0.1'/></nat></forward><ip address='10.0.0.1' prefix='24'/>"), 'XML_ERROR'],
    ['nat port end before start', net("<forward mode='nat'><nat><port start='2000' end='1000'/></nat></forward><ip address='10.0.0.1' prefix='24'/>"), 'XML_DETAIL'],
    ['unknown forward mode', net("<forward mode='tunnel'/>"), 'CONFIG_UNSUPPORTED'],
    ['forward dev mismatch', net("<forward mode='bridge' dev='eth0'><interface dev='eth1'/></forward>"), 'XML_ERROR'],
    ['duplicate interface', net("<forward mode='vepa'><interface dev='eth1'/><interface dev='eth1'/></forward>"), 'XML_ERROR'],
    ['duplicate PCI device', net("<forward mode='hostdev'><address type='pci' bus='1'/><address type='pci' bus='0x1'/></forward>"), 'XML_ERROR', /listed once/],
    ['open with forward dev', net("<forward mode='open' dev='eth0'/><ip address='10.0.0.1' prefix='24'/>"), 'XML_ERROR'],
    ['bridge name in private mode', net("<forward mode='private' dev='eth0'/><bridge name='br0'/>"), 'XML_ERROR'],
    ['stp in bridge mode', net("<forward mode='bridge'/><bridge name='br0' stp='off'/>"), 'XML_ERROR'],
    ['mtu in bridge mode', net("<forward mode='bridge'/><bridge name='br0'/><mtu size='9000'/>"), 'XML_ERROR'],
    ['dns disabled with records', net("<dns enable='no'><txt name='a' value='b'/></dns>"), 'XML_ERROR', /disabled/],
    ['bad TXT name', net("<dns><txt name='a b' value='c'/></dns>"), 'XML_DETAIL'],
    ['bad SRV protocol', net("<dns><srv service='x' protocol='t.cp'/></dns>"), 'XML_DETAIL'],
    ['SRV port without target', net("<dns><srv service='x' protocol='tcp' port='5'/></dns>"), 'XML_DETAIL'],
    ['DNS host without name', net("<dns><host ip='10.0.0.1'/></dns>"), 'XML_DETAIL'],
    ['route gateway unreachable', net("<ip address='10.0.0.1' prefix='24'/><route address='10.9.0.0' prefix='16' gateway='10.1.0.1'/>"), 'CONFIG_UNSUPPORTED'],
    ['route to a host address', net("<ip address='10.0.0.1' prefix='24'/><route address='10.9.0.1' prefix='16' gateway='10.0.0.2'/>"), 'XML_ERROR', /not a network address/],
    ['virtualport without type', net("<virtualport><parameters profileid='x'/></virtualport>"), 'XML_ERROR'],
    ['virtualport type extras', net("<virtualport type='802.1Qbh'><parameters managerid='1'/></virtualport>"), 'CONFIG_UNSUPPORTED'],
    ['vlan tag too big', net("<vlan><tag id='5000'/></vlan>"), 'XML_ERROR'],
    ['vlan trunk=no with two tags', net("<vlan trunk='no'><tag id='1'/><tag id='2'/></vlan>"), 'XML_ERROR'],
    ['bandwidth floor network-wide', net("<bandwidth><inbound average='1' floor='1'/></bandwidth>"), 'CONFIG_UNSUPPORTED'],
    ['bandwidth without average', net("<bandwidth><inbound peak='5'/></bandwidth>"), 'XML_DETAIL'],
    ['multicast bridge mac', net("<mac address='01:00:00:00:00:01'/>"), 'XML_ERROR'],
    ['bad stp', net("<bridge name='b' stp='maybe'/>"), 'XML_ERROR'],
    ['bad ipv6 attribute', net('', " ipv6='sure'"), 'XML_ERROR'],
    ['dnsmasq option without value', net("<dnsmasq:options xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><dnsmasq:option/></dnsmasq:options>"), 'XML_ERROR'],
  ];
  for (const [label, xml, code, re] of cases) {
    it(`rejects: ${label}`, () => expectCode(() => parseNetworkXml(xml), code, re));
  }
  it('names the network in the message', () => {
    expectCode(() => parseNetworkXml(net("<forward mode='nat'/>")), 'XML_ERROR', /^network 'r': /);
  });
});

describe('validateNetworkDef', () => {
  const parse = (body: string, name = 'v') => parseNetworkXml(`<network><name>${name}</name>${body}</network>`);
  const ok = (d: NetworkDef, others?: NetworkDef[]) => validateNetworkDef(d, others ? { otherNetworks: others } : {});

  it('accepts a usual NAT network', () => {
    expect(() =>
      ok(parse("<forward mode='nat'/><bridge name='vkbr0'/><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.99'/><host mac='52:54:00:00:00:01' ip='10.0.0.100'/></dhcp></ip>")),
    ).not.toThrow();
  });

  const bad: Array<[string, string, RegExp]> = [
    ['overlapping ranges', "<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.50'/><range start='10.0.0.40' end='10.0.0.60'/></dhcp></ip>", /overlaps range/],
    ['duplicate host ip', "<ip address='10.0.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:01' ip='10.0.0.5'/><host mac='52:54:00:00:00:02' ip='10.0.0.5'/></dhcp></ip>", /IP address 10.0.0.5/],
    ['duplicate host mac', "<ip address='10.0.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:01' ip='10.0.0.5'/><host mac='52:54:00:00:00:01' ip='10.0.0.6'/></dhcp></ip>", /MAC address/],
    ['host outside subnet', "<ip address='10.0.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:01' ip='10.0.1.5'/></dhcp></ip>", /not within network 10.0.0.1\/24/],
    ['two IPv4 dhcp sections', "<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip><ip address='10.1.0.1' prefix='24'><dhcp><range start='10.1.0.2' end='10.1.0.9'/></dhcp></ip>", /Multiple IPv4 dhcp/],
    ['same address twice', "<ip address='10.0.0.1' prefix='24'/><ip address='10.0.0.1' prefix='16'/>", /given twice/],
    ['mac in bridge mode', "<forward mode='bridge'/><bridge name='br0'/><mac address='52:54:00:00:00:01'/>", /Unsupported <mac>/],
    ['ip in bridge mode', "<forward mode='bridge'/><bridge name='br0'/><ip address='10.0.0.1' prefix='24'/>", /Unsupported <ip>/],
    ['interfaces in a hostdev pool', "<forward mode='hostdev'><interface dev='eth0'/></forward>", /PCI address/],
    ['PCI address outside hostdev', "<forward mode='passthrough'><address type='pci' bus='1'/></forward>", /only supported/],
    ['vlan on a NAT network', "<forward mode='nat'/><ip address='10.0.0.1' prefix='24'/><vlan><tag id='3'/></vlan>", /vlan/],
    ['two default portgroups', "<forward mode='bridge'/><bridge name='br0'/><portgroup name='a' default='yes'/><portgroup name='b' default='yes'/>", /multiple default/],
    ['portgroup names clash', "<forward mode='bridge'/><bridge name='br0'/><portgroup name='a'/><portgroup name='a'/>", /same name/],
    ['bandwidth on a macvtap network', "<forward mode='vepa' dev='eth0'/><bandwidth><inbound average='5'/></bandwidth>", /bandwidth/],
    ['bridge name too long', "<bridge name='abcdefghijklmnop'/>", /invalid bridge name/],
  ];
  for (const [label, body, re] of bad) {
    it(`rejects: ${label}`, () => expectCode(() => ok(parse(body)), 'CONFIG_UNSUPPORTED', re));
  }

  it('checks clashes with other networks only when given them', () => {
    const a = parse("<bridge name='vkbr0'/><ip address='10.0.0.1' prefix='24'/>", 'a');
    const b = parse("<bridge name='vkbr1'/><ip address='10.0.0.129' prefix='25'/>", 'b');
    const c = parse("<bridge name='vkbr0'/><ip address='10.5.0.1' prefix='24'/>", 'c');
    expect(() => ok(b)).not.toThrow();
    expectCode(() => ok(b, [a]), 'CONFIG_UNSUPPORTED', /overlaps subnet 10.0.0.1\/24 of network 'a'/);
    expectCode(() => ok(c, [a]), 'CONFIG_UNSUPPORTED', /bridge name 'vkbr0' already in use/);
  });

  it('gives an L3 network a 52:54:00 bridge MAC when it has none', () => {
    const d = parse("<bridge name='vkbr0'/>");
    expect(d.mac).toBeUndefined();
    const mac = ensureBridgeMac(d);
    expect(mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(ensureBridgeMac(d)).toBe(mac);
  });
});

describe('assignBridgeName', () => {
  it('picks the first free name from the template, keeps explicit names, ignores non-L3 modes', async () => {
    const { assignBridgeName } = await import('./bridge-name.js');
    const taken = new Set(['virbr0', 'virbr1']);
    const a = parseNetworkXml('<network><name>a</name></network>');
    expect(assignBridgeName(a, (n) => taken.has(n))).toBe('virbr2');
    expect(a.bridge?.name).toBe('virbr2');
    const b = parseNetworkXml("<network><name>b</name><bridge name='lab%d' stp='off'/></network>");
    expect(assignBridgeName(b, (n) => n === 'lab0')).toBe('lab1');
    expect(b.bridge).toMatchObject({ name: 'lab1', stp: false });
    const c = parseNetworkXml("<network><name>c</name><bridge name='fixed0'/></network>");
    expect(assignBridgeName(c, () => true)).toBe('fixed0');
    const d = parseNetworkXml("<network><name>d</name><forward mode='bridge' dev='eth0'/></network>");
    expect(assignBridgeName(d, () => false)).toBeUndefined();
    expect(() => assignBridgeName(parseNetworkXml('<network><name>e</name></network>'), () => true)).toThrow(/exceeded/);
  });
});
