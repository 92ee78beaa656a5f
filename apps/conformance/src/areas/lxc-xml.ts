import { formatDomainXml, parseDomainXml, VirtError, type DomainParserConfig, type DomainXmlNamespace, type XmlElement } from '@virtkit/core';
import type { ConformanceArea } from '../area.js';

/**
 * libvirt's lxcxml2xml harness: the LXC driver's parser settings (default
 * emulator, console target type lxc, the lxc: namespace) over the generic
 * parser. The LXC driver package will provide the same hooks.
 */
type LxcShare = { name: string; type: string; value: string };

const lxcNamespace: DomainXmlNamespace = {
  prefix: 'lxc',
  uri: 'http://libvirt.org/schemas/domain/lxc/1.0',
  parse(elements: XmlElement[]) {
    const out: LxcShare[] = [];
    for (const ns of elements) {
      if (ns.name !== 'lxc:namespace') continue;
      for (const s of ns.elements()) {
        const name = s.name.replace(/^lxc:/, '');
        if (!['sharenet', 'shareipc', 'shareuts'].includes(name)) continue;
        const type = s.attr('type');
        const value = s.attr('value');
        if (type === undefined || value === undefined) throw new VirtError('XML_ERROR', `<lxc:${name}>: No lxc environment type/value specified`);
        out.push({ name, type, value });
      }
    }
    return out.length ? out : undefined;
  },
  format(w, data) {
    const shares = data as LxcShare[];
    w.open('lxc:namespace');
    for (const n of ['sharenet', 'shareipc', 'shareuts']) {
      const s = shares.find((x) => x.name === n);
      if (s) w.empty(`lxc:${n}`, [['type', s.type], ['value', s.value]]);
    }
    w.close('lxc:namespace');
  },
};

const config: DomainParserConfig = {
  name: 'lxc',
  defaultEmulator: () => '/usr/libexec/libvirt_lxc',
  devicePostParse(dev) {
    if (dev.kind === 'chr' && dev.def.deviceType === 'console' && dev.def.targetType === undefined) dev.def.targetType = 'lxc';
  },
  namespaces: [lxcNamespace],
};

const area: ConformanceArea = {
  name: 'lxc-xml',
  compare: 'exact',
  run(ctx) {
    const inactive = ctx.row.args.mode === 'inactive';
    const def = parseDomainXml(ctx.readFile(ctx.row.input), { inactive, config });
    return formatDomainXml(def, { inactive, secure: true, config });
  },
};

export default area;
