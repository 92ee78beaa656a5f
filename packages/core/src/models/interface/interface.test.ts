import { describe, expect, it } from 'vitest';
import { VirtError } from '../../errors.js';
import { formatInterfaceXml } from './format.js';
import { parseInterfaceXml } from './parse.js';

const roundTrip = (xml: string) => formatInterfaceXml(parseInterfaceXml(xml));

// Documents shaped like libvirt's tests/interfaceschemadata: already in
// libvirt's output form, so a round trip must give them back unchanged.
const CANONICAL: Record<string, string> = {
  'ethernet-dhcp': `<interface type='ethernet' name='eth0'>
  <start mode='none'/>
  <mtu size='1492'/>
  <protocol family='ipv4'>
    <dhcp peerdns='no'/>
  </protocol>
  <mac address='aa:bb:cc:dd:ee:ff'/>
</interface>
`,
  'ethernet-static-multi': `<interface type='ethernet' name='eth1'>
  <start mode='onboot'/>
  <protocol family='ipv4'>
    <dhcp peerdns='yes'/>
    <ip address='192.168.0.5' prefix='24'/>
    <ip address='1.2.3.4' prefix='32'/>
    <route gateway='192.168.0.1'/>
  </protocol>
</interface>
`,
  'ipv6-autoconf-dhcp': `<interface type='ethernet' name='eth0'>
  <start mode='onboot'/>
  <protocol family='ipv4'>
    <dhcp/>
  </protocol>
  <protocol family='ipv6'>
    <autoconf/>
    <dhcp/>
    <ip address='2001:db8::1' prefix='64'/>
    <route gateway='2001:db8::ff'/>
  </protocol>
  <link speed='1000' state='up'/>
  <mac address='aa:bb:cc:dd:ee:ff'/>
</interface>
`,
  'bridge-bond': `<interface type='bridge' name='br0'>
  <start mode='onboot'/>
  <mtu size='1500'/>
  <bridge stp='off' delay='0.01'>
    <interface type='ethernet' name='eth2'>
    </interface>
    <interface type='bond' name='bond0'>
      <bond mode='active-backup'>
        <miimon freq='100' updelay='10' carrier='ioctl'/>
        <interface type='ethernet' name='eth1'>
        </interface>
        <interface type='ethernet' name='eth0'>
          <mac address='ab:bb:cc:dd:ee:ff'/>
        </interface>
      </bond>
    </interface>
    <interface type='vlan' name='eth3.42'>
      <vlan tag='42'>
        <interface name='eth3'/>
      </vlan>
    </interface>
  </bridge>
</interface>
`,
  'bond-arp': `<interface type='bond' name='bond0'>
  <start mode='hotplug'/>
  <protocol family='ipv4'>
    <ip address='192.168.50.7' prefix='24'/>
  </protocol>
  <bond mode='802.3ad'>
    <arpmon interval='100' target='192.168.50.1' validate='active'/>
    <interface type='ethernet' name='eth0'>
    </interface>
  </bond>
</interface>
`,
  vlan: `<interface type='vlan' name='eth0.42'>
  <start mode='onboot'/>
  <protocol family='ipv4'>
    <dhcp peerdns='no'/>
  </protocol>
  <vlan tag='42'>
    <interface name='eth0'/>
  </vlan>
</interface>
`,
  'bridge-empty': `<interface type='bridge' name='br0'>
  <bridge>
  </bridge>
</interface>
`,
};

describe('interface XML', () => {
  for (const [name, xml] of Object.entries(CANONICAL)) {
    it(`round-trips ${name}`, () => expect(roundTrip(xml)).toBe(xml));
  }

  it('normalises input the way libvirt prints it', () => {
    const out = roundTrip(`<interface name="eth9" type="ethernet">
      <mac address="52:54:00:11:22:33"/>
      <link state="down"/>
      <protocol family="ipv4"><ip address="10.0.0.9" prefix="0"/><route gateway="10.0.0.1"/><route gateway="10.0.0.2"/></protocol>
      <mtu size="9000"/>
    </interface>`);
    expect(out).toBe(`<interface type='ethernet' name='eth9'>
  <mtu size='9000'/>
  <protocol family='ipv4'>
    <ip address='10.0.0.9'/>
    <route gateway='10.0.0.1'/>
  </protocol>
  <link state='down'/>
  <mac address='52:54:00:11:22:33'/>
</interface>
`);
  });

  it('ignores top-level-only settings on enslaved interfaces and link on bridges', () => {
    const def = parseInterfaceXml(`<interface type='bridge' name='br1'>
  <link state='up'/>
  <bridge><interface type='ethernet' name='eth0'><mtu size='9000'/><start mode='onboot'/><link speed='100'/></interface></bridge>
</interface>`);
    expect(def.link).toBeUndefined();
    const port = def.bridge!.interfaces[0]!;
    expect(port.mtu).toBeUndefined();
    expect(port.startMode).toBeUndefined();
    expect(port.link).toEqual({ speed: 100 });
  });

  it('keeps unknown elements and attributes', () => {
    const out = roundTrip(`<interface type='ethernet' name='eth0' origin='netcf'><custom k='v'/></interface>`);
    expect(out).toBe(`<interface type='ethernet' name='eth0' origin='netcf'>
  <custom k='v'/>
</interface>
`);
  });

  const rejects: Array<[string, string, RegExp]> = [
    ['no type', "<interface name='x'/>", /type/],
    ['unknown type', "<interface type='wifi' name='x'/>", /unknown interface type/],
    ['no name', "<interface type='ethernet'/>", /no name/],
    ['wrong root', "<network><name>x</name></network>", /expecting <interface>/],
    ['bridge without <bridge>', "<interface type='bridge' name='br0'/>", /misses the bridge element/],
    ['bridge inside bridge', "<interface type='bridge' name='br0'><bridge><interface type='bridge' name='br1'><bridge/></interface></bridge></interface>", /unsupported type 'bridge'/],
    ['vlan inside bond', "<interface type='bond' name='b0'><bond><interface type='vlan' name='v'><vlan tag='1'><interface name='e'/></vlan></interface></bond></interface>", /unsupported type 'vlan'/],
    ['bad start mode', "<interface type='ethernet' name='e'><start mode='later'/></interface>", /startmode/],
    ['huge mtu', "<interface type='ethernet' name='e'><mtu size='100001'/></interface>", /mtu/],
    ['protocol without family', "<interface type='ethernet' name='e'><protocol/></interface>", /family/],
    ['bad IPv4 address', "<interface type='ethernet' name='e'><protocol family='ipv4'><ip address='10.0.0.300'/></protocol></interface>", /invalid ipv4 address/],
    ['IPv6 address in ipv4 protocol', "<interface type='ethernet' name='e'><protocol family='ipv4'><ip address='fd00::1'/></protocol></interface>", /invalid ipv4 address/],
    ['bad prefix', "<interface type='ethernet' name='e'><protocol family='ipv4'><ip address='10.0.0.1' prefix='40'/></protocol></interface>", /prefix/],
    ['bad mac', "<interface type='ethernet' name='e'><mac address='zz'/></interface>", /MAC/],
    ['bad link state', "<interface type='ethernet' name='e'><link state='sideways'/></interface>", /link state/],
    ['bad bond mode', "<interface type='bond' name='b'><bond mode='random'/></interface>", /bonding mode/],
    ['miimon without freq', "<interface type='bond' name='b'><bond><miimon/></bond></interface>", /freq/],
    ['arpmon without target', "<interface type='bond' name='b'><bond><arpmon interval='5'/></bond></interface>", /target/],
    ['vlan without tag', "<interface type='vlan' name='v'><vlan><interface name='e'/></vlan></interface>", /tag/],
    ['vlan tag too big', "<interface type='vlan' name='v'><vlan tag='4096'><interface name='e'/></vlan></interface>", /4095/],
    ['vlan without device', "<interface type='vlan' name='v'><vlan tag='5'/></interface>", /name attribute/],
    ['bad stp', "<interface type='bridge' name='b'><bridge stp='yes'/></interface>", /stp/],
  ];
  for (const [label, xml, re] of rejects) {
    it(`rejects: ${label}`, () => {
      try {
        parseInterfaceXml(xml);
        expect.unreachable();
      } catch (e) {
        expect(VirtError.is(e, 'XML_ERROR')).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    });
  }
});
