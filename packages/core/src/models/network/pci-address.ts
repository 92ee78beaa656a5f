/** PCI addresses of <forward><address type='pci' …/> (libvirt's virPCIDeviceAddressParseXML/Format). */
import type { XmlElement } from '../../xml/tree.js';
import { netError } from './errors.js';
import { parseCUnsigned } from './numbers.js';

export interface NetworkPciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
  /** Runtime: guests using this device (formatted only in live XML). */
  connections?: number;
}

function field(el: XmlElement, name: string, where: string): number {
  const v = el.attr(name);
  if (v === undefined) return 0;
  const n = parseCUnsigned(v, 0);
  if (n === undefined || n > 0xffffffffn) throw netError('XML_ERROR', where, `invalid PCI address ${name} '${v}'`);
  return Number(n);
}

export function parseNetworkPciAddress(el: XmlElement, where: string): NetworkPciAddress {
  const a: NetworkPciAddress = {
    domain: field(el, 'domain', where),
    bus: field(el, 'bus', where),
    slot: field(el, 'slot', where),
    function: field(el, 'function', where),
  };
  const mf = el.attr('multifunction');
  if (mf !== undefined && mf !== 'on' && mf !== 'off') {
    throw netError('XML_ERROR', where, `invalid PCI address multifunction '${mf}': expected 'on' or 'off'`);
  }
  // An all-zero address means "unset"; anything else must be a real B:S.F.
  if (a.domain || a.bus || a.slot) {
    if (a.bus > 0xff) throw netError('XML_ERROR', where, `Invalid PCI address bus='0x${a.bus.toString(16)}', must be <= 0xFF`);
    if (a.slot > 0x1f) throw netError('XML_ERROR', where, `Invalid PCI address slot='0x${a.slot.toString(16)}', must be <= 0x1F`);
    if (a.function > 7) throw netError('XML_ERROR', where, `Invalid PCI address function=0x${a.function.toString(16)}, must be <= 7`);
  }
  return a;
}

export function pciAddressEquals(a: NetworkPciAddress, b: NetworkPciAddress): boolean {
  return a.domain === b.domain && a.bus === b.bus && a.slot === b.slot && a.function === b.function;
}

/** "dddd:bb:ss.f", as libvirt names a PCI device in messages. */
export function formatPciAddressName(a: NetworkPciAddress): string {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.slot, 2)}.${a.function.toString(16)}`;
}

/** The attributes of <address type='pci' …/> in libvirt's order and spelling. */
export function pciAddressAttrs(a: NetworkPciAddress): Array<[string, string]> {
  const hex = (n: number, w: number) => '0x' + n.toString(16).padStart(w, '0');
  return [
    ['type', 'pci'],
    ['domain', hex(a.domain, 4)],
    ['bus', hex(a.bus, 2)],
    ['slot', hex(a.slot, 2)],
    ['function', '0x' + String(a.function)],
  ];
}
