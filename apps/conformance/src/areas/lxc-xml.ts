import { formatLxcDomain, lxcParserConfig, parseLxcDomain } from '@virtkit/driver-lxc';
import type { ConformanceArea } from '../area.js';

/**
 * libvirt's lxcxml2xml harness: the LXC driver's parser settings (default
 * emulator, console target type lxc, the lxc: namespace, exe guests of an
 * x86_64 host) from @virtkit/driver-lxc.
 */
const config = lxcParserConfig('x86_64');

const area: ConformanceArea = {
  name: 'lxc-xml',
  compare: 'exact',
  run(ctx) {
    const inactive = ctx.row.args.mode === 'inactive';
    const def = parseLxcDomain(ctx.readFile(ctx.row.input), { live: !inactive, config });
    return formatLxcDomain(def, { inactive, secure: true, config, ...(inactive ? {} : { id: def.id }) });
  },
};

export default area;
