import { describe, expect, it } from 'vitest';
import { VirtError } from '../errors.js';
import { formatNetworkXml } from '../models/network/format.js';
import { parseNetworkXml } from '../models/network/parse.js';
import { applyNetworkUpdate } from './update.js';

const base = () =>
  parseNetworkXml(`<network><name>n</name><uuid>5ae2ff27-1b2b-4e8e-9a37-fd2ac32f5b8f</uuid><forward mode='nat'/><bridge name='vbr'/>
  <dns><host ip='192.0.2.5'><hostname>a</hostname></host><txt name='t' value='v'/><srv service='ldap' protocol='tcp' target='a' port='389'/></dns>
  <ip address='192.0.2.1' prefix='24'><dhcp><range start='192.0.2.100' end='192.0.2.150'/><host mac='52:54:00:00:00:01' name='h1' ip='192.0.2.11'/></dhcp></ip>
  <portgroup name='pg1' default='yes'/></network>`);

function code(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    return VirtError.is(e) ? e.code : `not a VirtError: ${String(e)}`;
  }
  return 'no error';
}

describe('applyNetworkUpdate (virNetworkDefUpdateSection)', () => {
  it('adds, modifies and deletes DHCP hosts', () => {
    const d = base();
    applyNetworkUpdate(d, 'add-first', 'ip-dhcp-host', "<host mac='52:54:00:00:00:02' ip='192.0.2.12'/>");
    expect(d.ips[0]!.hosts.map((h) => h.ip)).toEqual(['192.0.2.12', '192.0.2.11']);
    applyNetworkUpdate(d, 'modify', 'ip-dhcp-host', "<host mac='52:54:00:00:00:01' name='h1b' ip='192.0.2.13'/>");
    expect(d.ips[0]!.hosts[1]).toMatchObject({ name: 'h1b', ip: '192.0.2.13' });
    applyNetworkUpdate(d, 'delete', 'ip-dhcp-host', "<host mac='52:54:00:00:00:02'/>");
    expect(d.ips[0]!.hosts.map((h) => h.ip)).toEqual(['192.0.2.13']);
    expect(code(() => applyNetworkUpdate(d, 'add-last', 'ip-dhcp-host', "<host mac='52:54:00:00:00:01' ip='192.0.2.20'/>"))).toBe('OPERATION_INVALID');
    expect(code(() => applyNetworkUpdate(d, 'delete', 'ip-dhcp-host', "<host name='nobody'/>"))).toBe('OPERATION_INVALID');
    expect(code(() => applyNetworkUpdate(d, 'add-last', 'ip-dhcp-host', "<host mac='52:54:00:00:00:09'/>"))).toBe('XML_ERROR');
    expect(code(() => applyNetworkUpdate(d, 'add-last', 'ip-dhcp-host', "<range start='192.0.2.1' end='192.0.2.2'/>"))).toBe('XML_ERROR');
  });

  it('adds and deletes DHCP ranges, which cannot be modified', () => {
    const d = base();
    applyNetworkUpdate(d, 'add-last', 'ip-dhcp-range', "<range start='192.0.2.200' end='192.0.2.210'/>");
    expect(d.ips[0]!.ranges).toHaveLength(2);
    applyNetworkUpdate(d, 'delete', 'ip-dhcp-range', "<range start='192.0.2.100' end='192.0.2.150'/>");
    expect(d.ips[0]!.ranges.map((r) => r.start)).toEqual(['192.0.2.200']);
    expect(code(() => applyNetworkUpdate(d, 'modify', 'ip-dhcp-range', "<range start='192.0.2.200' end='192.0.2.210'/>"))).toBe('NO_SUPPORT');
    expect(code(() => applyNetworkUpdate(d, 'add-last', 'ip-dhcp-range', "<range start='198.51.100.1' end='198.51.100.9'/>"))).not.toBe('no error');
  });

  it('DNS host, TXT and SRV records: add and delete', () => {
    const d = base();
    applyNetworkUpdate(d, 'add-last', 'dns-host', "<host ip='192.0.2.6'><hostname>b</hostname><hostname>c</hostname></host>");
    expect(code(() => applyNetworkUpdate(d, 'add-last', 'dns-host', "<host ip='192.0.2.6'><hostname>x</hostname></host>"))).toBe('OPERATION_INVALID');
    applyNetworkUpdate(d, 'delete', 'dns-host', '<host><hostname>c</hostname></host>');
    expect(d.dns!.hosts.map((h) => h.ip)).toEqual(['192.0.2.5']);
    applyNetworkUpdate(d, 'add-first', 'dns-txt', "<txt name='u' value='w'/>");
    expect(d.dns!.txts.map((t) => t.name)).toEqual(['u', 't']);
    applyNetworkUpdate(d, 'delete', 'dns-txt', "<txt name='t'/>");
    expect(code(() => applyNetworkUpdate(d, 'modify', 'dns-txt', "<txt name='u' value='z'/>"))).toBe('NO_SUPPORT');
    applyNetworkUpdate(d, 'add-last', 'dns-srv', "<srv service='http' protocol='tcp' target='a' port='80'/>");
    expect(code(() => applyNetworkUpdate(d, 'delete', 'dns-srv', "<srv protocol='tcp'/>"))).toBe('OPERATION_INVALID'); // two match
    applyNetworkUpdate(d, 'delete', 'dns-srv', "<srv service='ldap'/>");
    expect(d.dns!.srvs.map((s) => s.service)).toEqual(['http']);
  });

  it('portgroups and forward interfaces', () => {
    const d = base();
    applyNetworkUpdate(d, 'add-last', 'portgroup', "<portgroup name='pg2'/>");
    expect(code(() => applyNetworkUpdate(d, 'add-last', 'portgroup', "<portgroup name='pg3' default='yes'/>"))).toBe('OPERATION_INVALID');
    applyNetworkUpdate(d, 'delete', 'portgroup', "<portgroup name='pg1'/>");
    expect(d.portGroups.map((p) => p.name)).toEqual(['pg2']);
    applyNetworkUpdate(d, 'add-last', 'forward-interface', "<interface dev='eth7'/>");
    expect(d.forward!.interfaces.map((i) => i.dev)).toEqual(['eth7']);
    expect(formatNetworkXml(d)).toContain("<forward dev='eth7' mode='nat'>");
    applyNetworkUpdate(d, 'delete', 'forward-interface', "<interface dev='eth7'/>");
    expect(d.forward!.interfaces).toEqual([]);
  });

  it('refuses sections libvirt cannot update', () => {
    for (const s of ['bridge', 'domain', 'ip', 'forward', 'forward-pf'] as const) {
      expect(code(() => applyNetworkUpdate(base(), 'add-last', s, '<x/>'))).toBe('NO_SUPPORT');
    }
  });

  it('uses the <ip> at parentIndex, and refuses a second DHCP <ip> of a family', () => {
    const d = parseNetworkXml(`<network><name>n</name><ip address='192.0.2.1' prefix='24'/><ip address='198.51.100.1' prefix='24'><dhcp><range start='198.51.100.10' end='198.51.100.20'/></dhcp></ip></network>`);
    applyNetworkUpdate(d, 'add-last', 'ip-dhcp-host', "<host mac='52:54:00:00:00:05' ip='198.51.100.5'/>");
    expect(d.ips[1]!.hosts).toHaveLength(1);
    expect(code(() => applyNetworkUpdate(d, 'add-last', 'ip-dhcp-host', "<host mac='52:54:00:00:00:06' ip='192.0.2.6'/>", 0))).toBe('OPERATION_INVALID');
    expect(code(() => applyNetworkUpdate(d, 'add-last', 'ip-dhcp-host', "<host mac='52:54:00:00:00:06' ip='192.0.2.6'/>", 5))).toBe('OPERATION_INVALID');
  });
});
