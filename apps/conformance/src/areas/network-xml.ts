import { formatNetworkXml, parseNetworkXml } from '@virtkit/core';
import type { ConformanceArea } from '../area.js';

/**
 * networkxml2xml: parse, then format with the flags the row names
 * (VIR_NETWORK_XML_INACTIVE). Rejects must fail to parse.
 */
const area: ConformanceArea = {
  name: 'network-xml',
  compare: 'exact',
  run(ctx) {
    const def = parseNetworkXml(ctx.readFile(ctx.row.input));
    const flags = (ctx.row.args.flags ?? '').split('|');
    return formatNetworkXml(def, { inactive: flags.includes('VIR_NETWORK_XML_INACTIVE') });
  },
};

export default area;
