import { formatDomainXml, parseDomainXml } from '@virtkit/core';
import { qemuParserConfig } from '@virtkit/driver-qemu';
import type { ConformanceArea } from '../area.js';
import { harnessCaps, harnessConfig, harnessSwtpmVersions } from './qemu-harness.js';

/**
 * libvirt's qemuxml2xml: the QEMU driver's define-time defaults applied to
 * the input, formatted with the SECURE flag; inactive runs parse and format
 * with INACTIVE, active runs without. A row valid for both modes must give
 * the same text in both.
 */
const area: ConformanceArea = {
  name: 'domain-qemu-xml',
  compare: 'exact',
  async run(ctx) {
    const caps = await harnessCaps(ctx);
    const config = qemuParserConfig(caps, { config: harnessConfig(ctx), swtpmVersions: harnessSwtpmVersions(ctx) });
    const xml = ctx.readFile(ctx.row.input);
    const modes = (ctx.row.args.mode ?? 'inactive').split(',');
    const outputs = modes.map((mode) => {
      const inactive = mode === 'inactive';
      const def = parseDomainXml(xml, { inactive, config });
      return formatDomainXml(def, { inactive, secure: true, config });
    });
    const first = outputs[0]!;
    for (const o of outputs.slice(1)) if (o !== first) return `${first}\n<!-- the ${modes.join('/')} outputs differ -->\n${o}`;
    return first;
  },
};

export default area;
