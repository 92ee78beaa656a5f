/**
 * The `xen:` domain XML namespace (libxl_domain.c's libxlDriverDomainXMLNamespace):
 * extra device-model arguments, `<xen:commandline><xen:arg value='…'/>`,
 * which xl.cfg carries as `device_model_args`.
 */
import { VirtError, type DomainDef, type DomainXmlNamespace, type XmlElement } from '@virtkit/core';

export const XEN_NAMESPACE_URI = 'http://libvirt.org/schemas/domain/xen/1.0';

/** What the namespace holds for one domain. */
export interface XenNamespaceData {
  args: string[];
}

export const xenNamespace: DomainXmlNamespace = {
  prefix: 'xen',
  uri: XEN_NAMESPACE_URI,
  parse(elements: XmlElement[]): XenNamespaceData | undefined {
    const args: string[] = [];
    for (const cl of elements) {
      if (cl.name !== 'xen:commandline') continue;
      for (const a of cl.elements()) {
        if (a.name !== 'xen:arg') continue;
        const v = a.attr('value');
        if (v === undefined) throw new VirtError('XML_ERROR', '<xen:arg>: No device model command-line argument specified', { origin: 'xen' });
        args.push(v);
      }
    }
    return args.length ? { args } : undefined;
  },
  format(w, data) {
    const d = data as XenNamespaceData;
    if (!d.args.length) return;
    w.open('xen:commandline');
    for (const a of d.args) w.empty('xen:arg', [['value', a]]);
    w.close('xen:commandline');
  },
};

export function xenNamespaceData(def: DomainDef): XenNamespaceData | undefined {
  return def.namespaceData?.get(XEN_NAMESPACE_URI) as XenNamespaceData | undefined;
}

export function setXenNamespaceData(def: DomainDef, data: XenNamespaceData): void {
  def.namespaceData ??= new Map();
  def.namespaceData.set(XEN_NAMESPACE_URI, data);
}
