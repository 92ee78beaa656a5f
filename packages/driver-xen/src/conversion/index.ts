/**
 * libvirt's `xen-xl` native format: domain XML ↔ xl.cfg, usable without a
 * Xen host (domxml-to-native / domxml-from-native).
 */
import { formatConf, formatDomainXml, parseDomainXml, type DomainDef, type DomainParserConfig } from '@virtkit/core';
import { domainDefToXlEntries } from './domain-to-xl.js';
import { defaultGuests, DEFAULT_FIRMWARE_DIR, xenParserConfig, type XenDeviceModel, type XenGuestCaps } from './parser-config.js';
import { xlConfigToDomainDef } from './xl-to-domain.js';

export { formatXlDiskSpec } from './domain-to-xl.js';
export { parseXlDiskSpec, type XlDiskSpec } from './disk-spec.js';
export { parseVif, formatVif } from './vif.js';
export { defaultGuests, xenParserConfig, DEFAULT_FIRMWARE_DIR, DEFAULT_DEVICE_MODEL, type XenGuestCaps, type XenDeviceModel } from './parser-config.js';
export { xenNamespace, XEN_NAMESPACE_URI } from './xen-namespace.js';

/** The native format name libvirt uses for xl.cfg. */
export const XEN_XL_FORMAT = 'xen-xl';

export interface XenConversionOptions {
  /** Guest kinds of the host (default: an x86_64 Xen host's hvm, xen and xenpvh). */
  guests?: XenGuestCaps[];
  /** Xen's firmware folder, where `bios = "ovmf"` finds ovmf.bin (default /usr/lib/xen/boot). */
  firmwareDir?: string;
  /** The host CPU's virtualisation flag written for `nestedhvm = 0` (default vmx). */
  hwVirtFeature?: 'vmx' | 'svm';
  deviceModel?: XenDeviceModel;
  /** Resolves `<interface type='network'>` to its bridge (the xl.cfg has only bridges). */
  bridgeOfNetwork?: (name: string) => string | undefined;
}

function resolved(opts: XenConversionOptions) {
  const firmwareDir = opts.firmwareDir ?? DEFAULT_FIRMWARE_DIR;
  const guests = opts.guests ?? defaultGuests(firmwareDir);
  const config: DomainParserConfig = xenParserConfig({ guests, ...(opts.deviceModel ? { deviceModel: opts.deviceModel } : {}) });
  return { firmwareDir, guests, config, hwVirtFeature: opts.hwVirtFeature ?? 'vmx' };
}

/** Parses domain XML with the Xen driver's rules (inactive, as `define` does). */
export function parseXenDomainXml(xml: string, opts: XenConversionOptions = {}): DomainDef {
  return parseDomainXml(xml, { inactive: true, config: resolved(opts).config });
}

/** Formats a Xen domain definition as XML (`dumpxml --inactive --security-info` by default). */
export function formatXenDomainXml(def: DomainDef, opts: XenConversionOptions & { inactive?: boolean; secure?: boolean } = {}): string {
  return formatDomainXml(def, { inactive: opts.inactive ?? true, secure: opts.secure ?? true, config: resolved(opts).config });
}

/** A domain definition as xl.cfg text. */
export function domainDefToXl(def: DomainDef, opts: XenConversionOptions = {}): string {
  return formatConf(domainDefToXlEntries(def, opts.bridgeOfNetwork ? { bridgeOfNetwork: opts.bridgeOfNetwork } : {}));
}

/** xl.cfg text as a domain definition (post-parsed as libvirt's xenParseXL does). */
export function xlToDomainDef(cfg: string, opts: XenConversionOptions = {}): DomainDef {
  const r = resolved(opts);
  return xlConfigToDomainDef(cfg, { guests: r.guests, firmwareDir: r.firmwareDir, hwVirtFeature: r.hwVirtFeature, config: r.config });
}

/** `virsh domxml-to-native xen-xl`: domain XML → xl.cfg. */
export function domainXmlToXl(xml: string, opts: XenConversionOptions = {}): string {
  return domainDefToXl(parseXenDomainXml(xml, opts), opts);
}

/** `virsh domxml-from-native xen-xl`: xl.cfg → domain XML. */
export function xlToDomainXml(cfg: string, opts: XenConversionOptions = {}): string {
  return formatXenDomainXml(xlToDomainDef(cfg, opts), opts);
}
