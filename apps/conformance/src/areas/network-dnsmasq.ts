import { parseNetworkXml } from '@virtkit/core';
import { buildDnsmasqConfig, dnsmasqCapsFromVersion } from '@virtkit/network-linux';
import type { ConformanceArea } from '../area.js';
import { compareExact } from '../compare.js';

/**
 * networkxml2conf: network XML → dnsmasq.conf, with libvirt's harness
 * setup (dnsmasq 2.67, state dir /var/lib/libvirt/dnsmasq, no pid file).
 * The DHCP hosts file is checked as libvirt's harness does: it must match
 * the row's `hostsfile=` file, and must be empty when the row names none.
 */
const area: ConformanceArea = {
  name: 'network-dnsmasq',
  compare: 'exact',
  run(ctx) {
    const def = parseNetworkXml(ctx.readFile(ctx.row.input));
    const files = buildDnsmasqConfig(def, {
      caps: dnsmasqCapsFromVersion('2.67'),
      stateDir: '/var/lib/libvirt/dnsmasq',
    });
    const hostsName = ctx.row.args.hostsfile;
    if (hostsName) {
      if (files.hostsfile === '') throw new Error(`${hostsName} exists but the configuration has no DHCP host`);
      const diff = compareExact(files.hostsfile, ctx.readFile(hostsName));
      if (diff) throw new Error(`hosts file differs: ${diff}`);
    } else if (files.hostsfile !== '') {
      throw new Error('a DHCP hosts file was produced but libvirt writes none');
    }
    return files.conf;
  },
};

export default area;
