import { formatDomainXml, parseDomainXml, type DomainParserConfig } from '@virtkit/core';
import type { ConformanceArea } from '../area.js';

/**
 * libvirt's genericxml2xml: the driver-neutral parser whose only driver
 * setting is per-vCPU support; output formatted with the SECURE flag.
 */
const config: DomainParserConfig = { name: 'test', features: { individualVcpus: true } };

const area: ConformanceArea = {
  name: 'domain-xml',
  compare: 'exact',
  run(ctx) {
    const inactive = ctx.row.args.mode === 'inactive';
    const def = parseDomainXml(ctx.readFile(ctx.row.input), { inactive, config });
    return formatDomainXml(def, { inactive, secure: true, config });
  },
};

export default area;
