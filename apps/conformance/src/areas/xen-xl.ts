import { defaultGuests, domainXmlToXl, xlToDomainXml, type XenConversionOptions } from '@virtkit/driver-xen';
import type { ConformanceArea } from '../area.js';

/**
 * libvirt's xlconfigtest: domain XML ↔ xl.cfg through the Xen driver's
 * converter. The harness's fake host is an x86_64 Xen host with a core2duo
 * CPU (vmx) and qemu-xen; `replace_vars` names the placeholder the harness
 * uses for the build's firmware folder, which is what the converter is
 * told that folder is.
 */
const area: ConformanceArea = {
  name: 'xen-xl',
  compare: 'exact',
  run(ctx) {
    const opts: XenConversionOptions = { guests: defaultGuests(), hwVirtFeature: 'vmx', deviceModel: 'qemu-xen' };
    const fw = ctx.row.args.replace_vars;
    if (fw) opts.firmwareDir = fw;
    const input = ctx.readFile(ctx.row.input);
    if (ctx.row.kind === 'xml2cfg') return domainXmlToXl(input, opts);
    if (ctx.row.kind === 'cfg2xml') return xlToDomainXml(input, opts);
    throw new Error(`xen-xl: unknown case kind '${ctx.row.kind}'`);
  },
};

export default area;
