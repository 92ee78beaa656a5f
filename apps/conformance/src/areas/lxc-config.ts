import { formatLxcDomain, lxcConfigToDomainDef, lxcParserConfig } from '@virtkit/driver-lxc';
import type { ConformanceArea } from '../area.js';

/**
 * libvirt's lxcconf2xml harness: an LXC config file converted with the LXC
 * driver's parser settings for an x86_64 host; the harness then fixes the
 * (random) UUID to a known value before formatting, as libvirt's test does.
 */
const config = lxcParserConfig('x86_64');
const HARNESS_UUID = 'c7a5fdbd-edaf-9455-926a-d65c16db1809';

const area: ConformanceArea = {
  name: 'lxc-config',
  compare: 'exact',
  run(ctx) {
    const def = lxcConfigToDomainDef(ctx.readFile(ctx.row.input), { config });
    def.uuid = HARNESS_UUID;
    return formatLxcDomain(def, { config });
  },
};

export default area;
