/**
 * The qemu: XML namespace (libvirt's qemuDomainXMLNamespace): extra
 * command-line arguments and environment, capability overrides, device
 * property overrides and the deprecation behaviour.
 */
import { VirtError, type DomainDef, type DomainXmlNamespace, type XmlElement, type XmlWriter } from '@virtkit/core';

export const QEMU_NAMESPACE_URI = 'http://libvirt.org/schemas/domain/qemu/1.0';

export interface QemuOverrideProperty {
  name: string;
  type: 'string' | 'signed' | 'unsigned' | 'bool' | 'remove';
  value?: string;
}

export interface QemuNamespaceData {
  args: string[];
  env: Array<{ name: string; value?: string }>;
  capsAdd: string[];
  capsDel: string[];
  overrides: Array<{ alias: string; frontend: QemuOverrideProperty[] }>;
  deprecation?: string;
}

function nsError(msg: string): VirtError {
  return new VirtError('XML_ERROR', `<qemu:commandline>: ${msg}`, { origin: 'qemu' });
}

function local(el: XmlElement): string {
  const i = el.name.indexOf(':');
  return i >= 0 ? el.name.slice(i + 1) : el.name;
}

function parse(elements: XmlElement[]): QemuNamespaceData | undefined {
  const data: QemuNamespaceData = { args: [], env: [], capsAdd: [], capsDel: [], overrides: [] };
  let any = false;
  for (const el of elements) {
    switch (local(el)) {
      case 'commandline':
        for (const c of el.elements()) {
          if (local(c) === 'arg') {
            const v = c.attr('value');
            if (v === undefined) throw nsError('No qemu command-line argument specified');
            data.args.push(v);
            any = true;
          } else if (local(c) === 'env') {
            const name = c.attr('name');
            if (!name) throw nsError('No qemu environment name specified');
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw nsError('Invalid environment name, it must begin with a letter or underscore');
            const e: { name: string; value?: string } = { name };
            const v = c.attr('value');
            if (v !== undefined) e.value = v;
            data.env.push(e);
            any = true;
          }
        }
        break;
      case 'capabilities':
        for (const c of el.elements()) {
          const cap = c.attr('capability');
          if (cap === undefined) continue;
          if (local(c) === 'add') data.capsAdd.push(cap);
          else if (local(c) === 'del') data.capsDel.push(cap);
          any = true;
        }
        break;
      case 'override':
        for (const dev of el.elements()) {
          if (local(dev) !== 'device') continue;
          const alias = dev.attr('alias');
          if (!alias) throw new VirtError('XML_ERROR', 'missing device alias in <qemu:override>', { origin: 'qemu' });
          const props: QemuOverrideProperty[] = [];
          for (const fe of dev.elements()) {
            if (local(fe) !== 'frontend') continue;
            for (const p of fe.elements()) {
              const name = p.attr('name');
              const type = p.attr('type') as QemuOverrideProperty['type'] | undefined;
              if (!name || !type) throw new VirtError('XML_ERROR', 'missing property name or type in <qemu:override>', { origin: 'qemu' });
              const prop: QemuOverrideProperty = { name, type };
              const v = p.attr('value');
              if (v !== undefined) prop.value = v;
              props.push(prop);
            }
          }
          data.overrides.push({ alias, frontend: props });
          any = true;
        }
        break;
      case 'deprecation': {
        const b = el.attr('behavior');
        if (b) {
          data.deprecation = b;
          any = true;
        }
        break;
      }
      default:
        break;
    }
  }
  return any ? data : undefined;
}

function format(w: XmlWriter, raw: unknown): void {
  const d = raw as QemuNamespaceData;
  if (d.args.length || d.env.length) {
    w.open('qemu:commandline');
    for (const a of d.args) w.empty('qemu:arg', [['value', a]]);
    for (const e of d.env) w.empty('qemu:env', [['name', e.name], ['value', e.value]]);
    w.close('qemu:commandline');
  }
  if (d.capsAdd.length || d.capsDel.length) {
    w.open('qemu:capabilities');
    for (const c of d.capsAdd) w.empty('qemu:add', [['capability', c]]);
    for (const c of d.capsDel) w.empty('qemu:del', [['capability', c]]);
    w.close('qemu:capabilities');
  }
  if (d.overrides.length) {
    w.open('qemu:override');
    for (const o of d.overrides) {
      w.open('qemu:device', [['alias', o.alias]]);
      if (o.frontend.length) {
        w.open('qemu:frontend');
        for (const p of o.frontend) w.empty('qemu:property', [['name', p.name], ['type', p.type], ['value', p.value]]);
        w.close('qemu:frontend');
      }
      w.close('qemu:device');
    }
    w.close('qemu:override');
  }
  if (d.deprecation) w.empty('qemu:deprecation', [['behavior', d.deprecation]]);
}

export const qemuXmlNamespace: DomainXmlNamespace = { prefix: 'qemu', uri: QEMU_NAMESPACE_URI, parse, format };

export function qemuNamespaceData(def: DomainDef): QemuNamespaceData | undefined {
  return def.namespaceData?.get(QEMU_NAMESPACE_URI) as QemuNamespaceData | undefined;
}
