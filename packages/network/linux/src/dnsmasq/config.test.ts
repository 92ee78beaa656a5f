import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtError, parseNetworkXml } from '@virtkit/core';
import { buildDnsmasqConfig, dnsmasqFilePaths, networkNeedsDnsmasq } from './config.js';
import { dnsmasqCapsFromVersion, parseDnsmasqVersionOutput, probeDnsmasqCaps } from './caps.js';
import { addnHostsFileContents, dhcpHostLine, dnsmasqLeaseTime } from './hosts.js';

const caps = dnsmasqCapsFromVersion('2.67');
const STATE = '/var/lib/virtkit/dnsmasq';
const HEADER = (name: string) =>
  [
    '##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE',
    '##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:',
    `##    virsh net-edit ${name}`,
    '## or other application using the libvirt API.',
    '##',
    '## dnsmasq conf file created by libvirt',
    'strict-order',
  ].join('\n') + '\n';

const build = (xml: string, extra: Partial<Parameters<typeof buildDnsmasqConfig>[1]> = {}) =>
  buildDnsmasqConfig(parseNetworkXml(xml), { caps, stateDir: STATE, ...extra });

describe('buildDnsmasqConfig', () => {
  it('writes a NAT network with IPv4 DHCP, static hosts and SLAAC IPv6', () => {
    const f = build(`<network>
  <name>lab</name>
  <forward mode='nat'/>
  <bridge name='vkbr0'/>
  <ip address='10.77.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.77.0.100' end='10.77.0.199'><lease expiry='2' unit='hours'/></range>
      <host mac='52:54:00:00:00:0a' name='db' ip='10.77.0.10'/>
      <host name='web' ip='10.77.0.11'><lease expiry='0'/></host>
      <host mac='52:54:00:00:00:0c' ip='10.77.0.12'><lease expiry='30'/></host>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:77::1' prefix='64'/>
</network>`);
    expect(f.conf).toBe(
      HEADER('lab') +
        `except-interface=lo
bind-dynamic
interface=vkbr0
dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,2h
dhcp-no-override
dhcp-authoritative
dhcp-lease-max=100
dhcp-hostsfile=${STATE}/lab.hostsfile
addn-hosts=${STATE}/lab.addnhosts
dhcp-range=fd00:77::1,ra-only
`,
    );
    expect(f.hostsfile).toBe('52:54:00:00:00:0a,10.77.0.10,db\nweb,10.77.0.11,infinite\n52:54:00:00:00:0c,10.77.0.12,30m\n');
    expect(f.addnhosts).toBe('');
    expect(f.hostsfilePath).toBe(`${STATE}/lab.hostsfile`);
  });

  it('writes an isolated network with DNS records, PTR zones, TFTP and boot', () => {
    const f = build(`<network>
  <name>iso</name>
  <bridge name='vkbr9'/>
  <mtu size='1400'/>
  <domain name='iso.test' localOnly='yes'/>
  <dns forwardPlainNames='no'>
    <forwarder addr='10.0.0.53'/>
    <forwarder domain='corp' addr='10.0.0.54' port='5353'/>
    <forwarder domain='blocked'/>
    <txt name='k' value='v w'/>
    <srv service='ldap' protocol='tcp' domain='iso.test' target='dc.iso.test' weight='5'/>
    <srv service='gone' protocol='udp' target='.' port='9'/>
    <host ip='10.9.0.5'><hostname>a</hostname><hostname>b</hostname></host>
    <host ip='fd09::5'><hostname>a</hostname></host>
    <host ip='10.9.0.5'><hostname>c</hostname></host>
  </dns>
  <ip address='10.9.0.1' prefix='24' localPtr='yes'>
    <tftp root='/srv/tftp'/>
    <dhcp>
      <range start='10.9.0.10' end='10.9.0.20'/>
      <bootp file='pxelinux.0' server='10.9.0.1'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd09::1' prefix='64' localPtr='yes'>
    <dhcp><host id='0:1:2:3' name='six' ip='fd09::6'/></dhcp>
  </ip>
</network>`, { pidFile: '/run/virtkit/network/iso.pid' });
    expect(f.conf).toBe(
      HEADER('iso') +
        `server=10.0.0.53
server=/corp/10.0.0.54#5353
server=/blocked/#
no-resolv
local=/iso.test/
domain=iso.test
expand-hosts
local=/0.9.10.in-addr.arpa/
local=/0.0.0.0.0.0.0.0.0.0.0.0.9.0.d.f.ip6.arpa/
domain-needed
local=//
pid-file=/run/virtkit/network/iso.pid
except-interface=lo
bind-dynamic
interface=vkbr9
dhcp-option=3
no-resolv
ra-param=*,0,0
txt-record=k,v w
srv-host=_ldap._tcp.iso.test,dc.iso.test,1,0,5
srv-host=_gone._udp
enable-tftp
tftp-root=/srv/tftp
dhcp-range=10.9.0.10,10.9.0.20,255.255.255.0
dhcp-no-override
dhcp-authoritative
dhcp-boot=pxelinux.0,,10.9.0.1
dhcp-range=fd09::1,static,64
dhcp-lease-max=11
dhcp-hostsfile=${STATE}/iso.hostsfile
addn-hosts=${STATE}/iso.addnhosts
dhcp-option=option:mtu,1400
enable-ra
`,
    );
    expect(f.hostsfile).toBe('id:0:1:2:3,six,[fd09::6]\n');
    expect(f.addnhosts).toBe('10.9.0.5\ta\tb\tc\t\nfd09::5\ta\t\n');
  });

  it('turns DNS off with port=0 and leaves out the DNS parts', () => {
    const f = build(`<network><name>nodns</name><forward mode='route' dev='eth0'/><bridge name='vkbr2'/><dns enable='no'/>
  <domain name='x.test'/><ip address='10.2.0.1' prefix='24' localPtr='yes'/></network>`);
    expect(f.conf).toBe(HEADER('nodns') + 'port=0\ndomain=x.test\nexpand-hosts\nexcept-interface=lo\nbind-dynamic\ninterface=vkbr2\n');
    expect(f.hostsfile).toBe('');
  });

  it('appends <dnsmasq:options> last and escapes the name in file paths as libvirt does', () => {
    const f = build(`<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>a&amp;b</name><forward/><bridge name='vkbr3'/>
  <ip address='10.3.0.1' prefix='24'/><dnsmasq:options><dnsmasq:option value='log-queries'/></dnsmasq:options></network>`);
    expect(f.conf.endsWith('addn-hosts=/var/lib/virtkit/dnsmasq/a&amp;b.addnhosts\nlog-queries\n')).toBe(true);
    expect(f.conf).toContain('##    virsh net-edit a&b\n');
    expect(dnsmasqFilePaths('/d', 'a"b').hostsfile).toBe('/d/a&quot;b.hostsfile');
  });

  it('refuses what libvirt refuses', () => {
    const rej = (xml: string, code: VirtError['code'], re: RegExp, c = caps) => {
      try {
        buildDnsmasqConfig(parseNetworkXml(xml), { caps: c, stateDir: STATE });
        expect.unreachable();
      } catch (e) {
        expect(VirtError.is(e, code)).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    };
    rej(`<network><name>n</name><bridge name='b'/><ip address='10.0.0.1' prefix='24' localPtr='yes'/><ip address='10.1.0.1' prefix='20' localPtr='yes'/></network>`, 'CONFIG_UNSUPPORTED', /PTR domain for IPv4 network with prefix 20/);
    rej(`<network><name>n</name><bridge name='b'/><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.3'/></dhcp></ip><ip address='10.1.0.1' prefix='24'><dhcp><range start='10.1.0.2' end='10.1.0.3'/></dhcp></ip></network>`, 'CONFIG_UNSUPPORTED', /multiple DHCP/);
    rej(`<network><name>n</name><ip address='10.0.0.1' prefix='24'/></network>`, 'INVALID_ARG', /bridge name/);
    rej(`<network><name>n</name><bridge name='b'/></network>`, 'CONFIG_UNSUPPORTED', /2\.67 required but 2\.66/, { version: 2_066_000 });
  });

  it('knows when a network needs dnsmasq', () => {
    const need = (xml: string) => networkNeedsDnsmasq(parseNetworkXml(xml));
    expect(need(`<network><name>n</name><bridge name='b'/></network>`)).toBe(false);
    expect(need(`<network><name>n</name><ip address='10.0.0.1' prefix='24'/></network>`)).toBe(true);
    expect(need(`<network><name>n</name><dns enable='no'/><ip address='10.0.0.1' prefix='24'/></network>`)).toBe(false);
    expect(need(`<network><name>n</name><dns enable='no'/><ip address='10.0.0.1' prefix='24'><tftp root='/t'/></ip></network>`)).toBe(true);
  });

  it('writes files the real dnsmasq accepts (dnsmasq --test)', () => {
    if (!existsSync('/usr/sbin/dnsmasq')) return;
    const dir = mkdtempSync(join(tmpdir(), 'virtkit-dnsmasq-'));
    try {
      const f = build(`<network><name>t</name><forward mode='nat'/><bridge name='vkbrtest'/><mtu size='1400'/><domain name='t.test'/>
  <dns><txt name='k' value='v'/><srv service='http' protocol='tcp' target='www' port='80'/><host ip='10.4.0.9'><hostname>h</hostname></host></dns>
  <ip address='10.4.0.1' prefix='24' localPtr='yes'><tftp root='${dir}'/><dhcp><range start='10.4.0.2' end='10.4.0.99'><lease expiry='1' unit='hours'/></range>
  <host mac='52:54:00:00:00:01' name='x' ip='10.4.0.100'/><bootp file='pxe.0'/></dhcp></ip>
  <ip family='ipv6' address='fd04::1' prefix='64'><dhcp><range start='fd04::10' end='fd04::99'/></dhcp></ip></network>`, { pidFile: join(dir, 'pid') });
      const conf = join(dir, 't.conf');
      writeFileSync(conf, f.conf);
      const out = execFileSync('/usr/sbin/dnsmasq', ['--test', `--conf-file=${conf}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out + '').toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dnsmasq capabilities and hosts files', () => {
  it('reads `dnsmasq --version`', () => {
    expect(parseDnsmasqVersionOutput('Dnsmasq version 2.90  Copyright (c) 2000-2024 Simon Kelley\nCompile time options: IPv6').version).toBe(2_090_000);
    expect(dnsmasqCapsFromVersion('2.67.1').version).toBe(2_067_001);
    expect(() => parseDnsmasqVersionOutput('dnsmasq 2.80')).toThrow(/cannot parse/);
    try {
      dnsmasqCapsFromVersion('2.48');
      expect.unreachable();
    } catch (e) {
      expect(VirtError.is(e, 'CONFIG_UNSUPPORTED')).toBe(true);
    }
  });

  it('probes the installed dnsmasq', async () => {
    if (!existsSync('/usr/sbin/dnsmasq')) return;
    const c = await probeDnsmasqCaps('/usr/sbin/dnsmasq');
    expect(c.version).toBeGreaterThanOrEqual(2_067_000);
    await expect(probeDnsmasqCaps('/nonexistent/dnsmasq')).rejects.toMatchObject({ code: 'SYSTEM_ERROR' });
  });

  it('formats lease times and host lines as libvirt', () => {
    expect(dnsmasqLeaseTime(undefined)).toBeUndefined();
    expect(dnsmasqLeaseTime({ expiry: 0, unit: 'minutes' })).toBe('infinite');
    expect(dnsmasqLeaseTime({ expiry: 300, unit: 'seconds' })).toBe('300s');
    expect(dhcpHostLine({ mac: '52:54:00:00:00:01', ip: '10.0.0.5' }, false)).toBe('52:54:00:00:00:01,10.0.0.5');
    expect(dhcpHostLine({ name: 'paul', ip: 'fd00::21' }, true)).toBe('paul,[fd00::21]');
    expect(dhcpHostLine({ id: '0:3:0:1', ip: 'fd00::23', lease: { expiry: 1, unit: 'hours' } }, true)).toBe('id:0:3:0:1,[fd00::23],1h');
    expect(addnHostsFileContents([])).toBe('');
  });
});
