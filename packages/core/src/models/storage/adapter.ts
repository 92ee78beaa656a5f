import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { propInteger, propYesNo, storageError } from './xpath.js';

export interface StorageAdapterPciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

/** <adapter type='scsi_host'>: by host name, or by the PCI address of its parent. */
export interface ScsiHostAdapter {
  type: 'scsi_host';
  name?: string;
  parentAddr?: { uniqueId: number; address: StorageAdapterPciAddress };
}

/** <adapter type='fc_host'>: an (NPIV) fibre channel host by WWNN/WWPN. */
export interface FcHostAdapter {
  type: 'fc_host';
  parent?: string;
  parentWwnn?: string;
  parentWwpn?: string;
  parentFabricWwn?: string;
  managed?: boolean;
  wwnn?: string;
  wwpn?: string;
}

export type StorageAdapter = ScsiHostAdapter | FcHostAdapter;

function parsePciAddress(el: XmlElement, what: string): StorageAdapterPciAddress {
  const get = (a: string) => propInteger(el, a, what, { base: 0 }) ?? 0;
  const addr = { domain: get('domain'), bus: get('bus'), slot: get('slot'), function: get('function') };
  const empty = addr.domain === 0 && addr.bus === 0 && addr.slot === 0 && addr.function === 0;
  if (!empty) {
    if (addr.domain > 0xffff) throw storageError('XML_ERROR', what, `invalid PCI address domain='0x${addr.domain.toString(16)}', must be <= 0xFFFF`);
    if (addr.bus > 0xff) throw storageError('XML_ERROR', what, `invalid PCI address bus='0x${addr.bus.toString(16)}', must be <= 0xFF`);
    if (addr.slot > 0x1f) throw storageError('XML_ERROR', what, `invalid PCI address slot='0x${addr.slot.toString(16)}', must be <= 0x1F`);
    if (addr.function > 7) throw storageError('XML_ERROR', what, `invalid PCI address function=0x${addr.function.toString(16)}, must be <= 7`);
  }
  return addr;
}

/** virStorageAdapterParseXML; undefined means an adapter of no usable type (libvirt's "default"). */
export function parseStorageAdapter(el: XmlElement, what: string): StorageAdapter | undefined {
  const type = el.attr('type');
  if (type === undefined) {
    // Legacy form: only name='hostN' without a type.
    if (el.attr('wwnn') !== undefined || el.attr('wwpn') !== undefined || el.attr('parent') !== undefined) {
      throw storageError('XML_ERROR', what, "use of 'wwnn', 'wwpn', and 'parent' attributes requires use of the adapter 'type'");
    }
    if (el.child('parentaddr')) throw storageError('XML_ERROR', what, "use of 'parentaddr' element requires use of the adapter 'type'");
    const name = el.attr('name');
    return name === undefined ? undefined : { type: 'scsi_host', name };
  }
  if (type === 'fc_host') {
    const a: FcHostAdapter = { type: 'fc_host' };
    const managed = propYesNo(el, 'managed', what);
    if (managed !== undefined) a.managed = managed;
    const map: Array<[keyof FcHostAdapter, string]> = [
      ['parent', 'parent'], ['parentWwnn', 'parent_wwnn'], ['parentWwpn', 'parent_wwpn'],
      ['parentFabricWwn', 'parent_fabric_wwn'], ['wwpn', 'wwpn'], ['wwnn', 'wwnn'],
    ];
    for (const [key, attr] of map) {
      const v = el.attr(attr);
      if (v !== undefined) (a as unknown as Record<string, string>)[key] = v;
    }
    return a;
  }
  if (type === 'scsi_host') {
    const a: ScsiHostAdapter = { type: 'scsi_host' };
    const name = el.attr('name');
    if (name !== undefined) a.name = name;
    const parentaddr = el.child('parentaddr');
    if (parentaddr) {
      const address = parentaddr.child('address');
      if (!address) throw storageError('XML_ERROR', what, 'missing scsi_host PCI address element');
      const uid = parentaddr.attr('unique_id');
      const n = uid === undefined ? NaN : Number(uid.trim());
      if (uid === undefined || !/^\s*\+?[0-9]+\s*$/.test(uid) || !Number.isSafeInteger(n) || n > 2147483647) {
        throw storageError('XML_ERROR', what, "missing or invalid scsi adapter 'unique_id' value");
      }
      a.parentAddr = { uniqueId: n, address: parsePciAddress(address, what) };
    }
    return a;
  }
  throw storageError('XML_ERROR', what, `invalid value for attribute 'type' in element 'adapter': '${type}'`);
}

function validateWwn(wwn: string, what: string): void {
  const body = wwn.startsWith('0x') ? wwn.slice(2) : wwn;
  if (!/^[0-9a-fA-F]{16}$/.test(body)) throw storageError('INTERNAL_ERROR', what, `malformed wwn: ${wwn}`);
}

/** virStorageAdapterValidate. */
export function validateStorageAdapter(a: StorageAdapter | undefined, what: string): void {
  if (!a) throw storageError('XML_ERROR', what, 'missing storage pool source adapter');
  if (a.type === 'fc_host') {
    if (!a.wwnn || !a.wwpn) throw storageError('XML_ERROR', what, "'wwnn' and 'wwpn' must be specified for adapter type 'fchost'");
    validateWwn(a.wwnn, what);
    validateWwn(a.wwpn, what);
    if (a.parentWwnn !== undefined && a.parentWwpn === undefined) {
      throw storageError('XML_ERROR', what, `when providing parent_wwnn='${a.parentWwnn}', the parent_wwpn must also be provided`);
    }
    if (a.parentWwnn === undefined && a.parentWwpn !== undefined) {
      throw storageError('XML_ERROR', what, `when providing parent_wwpn='${a.parentWwpn}', the parent_wwnn must also be provided`);
    }
    if (a.parentWwnn !== undefined) validateWwn(a.parentWwnn, what);
    if (a.parentWwpn !== undefined) validateWwn(a.parentWwpn, what);
    if (a.parentFabricWwn !== undefined) validateWwn(a.parentFabricWwn, what);
    return;
  }
  if (a.name === undefined && !a.parentAddr) {
    throw storageError('XML_ERROR', what, "either 'name' or 'parent' must be specified for the 'scsi_host' adapter");
  }
  if (a.name !== undefined && a.parentAddr) {
    throw storageError('XML_ERROR', what, "both 'name' and 'parent' cannot be specified for the 'scsi_host' adapter");
  }
}

const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;

/** virStorageAdapterFormat. */
export function writeStorageAdapter(w: XmlWriter, a: StorageAdapter): void {
  if (a.type === 'fc_host') {
    w.empty('adapter', [
      ['type', 'fc_host'],
      ['parent', a.parent],
      ['parent_wwnn', a.parentWwnn],
      ['parent_wwpn', a.parentWwpn],
      ['parent_fabric_wwn', a.parentFabricWwn],
      ['managed', a.managed === undefined ? undefined : a.managed ? 'yes' : 'no'],
      ['wwnn', a.wwnn ?? '(null)'],
      ['wwpn', a.wwpn ?? '(null)'],
    ]);
    return;
  }
  if (a.name !== undefined) {
    w.empty('adapter', [
      ['type', 'scsi_host'],
      ['name', a.name],
    ]);
    return;
  }
  const p = a.parentAddr!;
  w.open('adapter', [['type', 'scsi_host']]);
  w.open('parentaddr', [['unique_id', p.uniqueId]]);
  w.empty('address', [
    ['domain', hex(p.address.domain, 4)],
    ['bus', hex(p.address.bus, 2)],
    ['slot', hex(p.address.slot, 2)],
    ['function', `0x${p.address.function}`],
  ]);
  w.close('parentaddr');
  w.close('adapter');
}
