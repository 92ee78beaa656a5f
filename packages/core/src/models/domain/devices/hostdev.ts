/** <hostdev>: host devices passed to the guest (PCI, USB, SCSI, mediated, container caps). */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { parseUuid } from '../../../xml/values.js';
import { ElemReader, parseBase0, xmlError } from '../reader.js';
import { hex, oo, writeEl, yn, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo, type PciAddress } from './info.js';
import { formatAuth, parseAuth, type DiskAuthDef, type StorageHost } from './storage-source.js';
import { formatIp, formatRoute, parseIp, parseRoute, type IpDef, type RouteDef } from './net-common.js';

export const HOSTDEV_SUBSYS_TYPES = ['usb', 'pci', 'scsi', 'scsi_host', 'mdev'] as const;

export interface HostdevDef {
  mode: 'subsystem' | 'capabilities';
  type: string;
  managed?: boolean;
  /** pci: <driver name>. */
  driverName?: string;
  startupPolicy?: string;
  guestReset?: string;
  writeFiltering?: boolean;
  /** usb */
  vendor?: number;
  product?: number;
  usbBus?: number;
  usbDevice?: number;
  /** pci */
  pciAddress?: PciAddress;
  /** scsi (host adapter or iSCSI) */
  scsiProtocol?: 'adapter' | 'iscsi';
  adapter?: string;
  scsiAddress?: { bus: number; target: number; unit: number };
  iscsiName?: string;
  iscsiHosts?: StorageHost[];
  iscsiAuth?: DiskAuthDef;
  initiatorIqn?: string;
  sgio?: string;
  rawio?: boolean;
  /** scsi_host (vhost-scsi) */
  wwpn?: string;
  scsiHostModel?: string;
  /** mdev */
  mdevModel?: string;
  mdevUuid?: string;
  display?: boolean;
  ramfb?: boolean;
  /** capabilities mode */
  block?: string;
  char?: string;
  interfaceName?: string;
  ips?: IpDef[];
  routes?: RouteDef[];
  readonly?: boolean;
  shareable?: boolean;
  info: DeviceInfo;
  kept?: KeptXml;
  sourceKept?: KeptXml;
}

function hexId(v: string | undefined, where: string): number | undefined {
  if (v === undefined) return undefined;
  return parseBase0(v, where, 0xffff);
}

export function parseHostdev(el: XmlElement, ctx: ParseContext): HostdevDef {
  const r = new ElemReader(el, '<hostdev>');
  const mode = r.enum('mode', ['subsystem', 'capabilities'] as const) ?? 'subsystem';
  const type = r.str('type');
  if (!type) throw xmlError('<hostdev>', 'missing hostdev type');
  const where = `hostdev type='${type}'`;
  const def: HostdevDef = { mode, type, info: {} };
  const src = r.child('source');
  if (mode === 'subsystem') {
    if (!(HOSTDEV_SUBSYS_TYPES as readonly string[]).includes(type)) throw xmlError(where, `unknown host device source address type '${type}'`);
    const managed = r.yesNo('managed');
    if (managed !== undefined) def.managed = managed;
    if (type === 'scsi') {
      const sgio = r.enum('sgio', ['default', 'filtered', 'unfiltered'] as const);
      if (sgio && sgio !== 'default') def.sgio = sgio;
      const rawio = r.yesNo('rawio');
      if (rawio !== undefined) def.rawio = rawio;
    }
    if (type === 'scsi_host') {
      const m = r.enum('model', ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const);
      if (m && m !== 'default') def.scsiHostModel = m;
    }
    if (type === 'mdev') {
      const m = r.enum('model', ['vfio-pci', 'vfio-ccw', 'vfio-ap'] as const);
      if (!m) throw xmlError(where, "missing 'model' attribute in mediated device's <hostdev> element");
      def.mdevModel = m;
      const d = r.onOff('display');
      if (d !== undefined) def.display = d;
      const rf = r.onOff('ramfb');
      if (rf !== undefined) def.ramfb = rf;
    }
    if (type === 'pci') {
      const drv = r.child('driver');
      if (drv) {
        const n = new ElemReader(drv, `${where} <driver>`).enum('name', ['default', 'kvm', 'vfio', 'xen'] as const);
        if (n && n !== 'default') def.driverName = n;
      }
    }
    if (!src) throw xmlError(where, 'Missing <source> element in hostdev device');
    const sr = new ElemReader(src, `${where} <source>`);
    const sp = sr.enum('startupPolicy', ['default', 'mandatory', 'requisite', 'optional'] as const);
    if (sp && sp !== 'default') {
      if (type !== 'usb') throw xmlError(where, `Setting startupPolicy is only allowed for USB devices`);
      def.startupPolicy = sp;
    }
    if (type === 'usb') {
      const gr = sr.enum('guestReset', ['default', 'off', 'uninitialized', 'on'] as const);
      if (gr && gr !== 'default') def.guestReset = gr;
      const v = sr.child('vendor');
      if (v) {
        const id = hexId(v.attr('id'), `${where} <vendor>`);
        if (id === undefined) throw xmlError(where, 'usb vendor needs id');
        def.vendor = id;
      }
      const p = sr.child('product');
      if (p) {
        const id = hexId(p.attr('id'), `${where} <product>`);
        if (id === undefined) throw xmlError(where, 'usb product needs id');
        def.product = id;
      }
      const a = sr.child('address');
      if (a) {
        const ar = new ElemReader(a, `${where} <source><address>`);
        const bus = ar.str('bus');
        const dev = ar.str('device');
        if (bus === undefined) throw xmlError(where, 'usb address needs bus id');
        if (dev === undefined) throw xmlError(where, 'usb address needs device id');
        def.usbBus = parseBase0(bus, `${where} bus`);
        def.usbDevice = parseBase0(dev, `${where} device`);
      }
      if (def.vendor !== undefined && def.product === undefined) throw xmlError(where, 'missing product');
      if (def.vendor === undefined && def.usbBus === undefined) throw xmlError(where, 'usb source needs vendor/product or bus/device');
    } else if (type === 'pci') {
      const wf = sr.yesNo('writeFiltering');
      if (wf !== undefined) def.writeFiltering = wf;
      const a = sr.child('address');
      if (!a) throw xmlError(where, 'Missing PCI address in <source>');
      const ar = new ElemReader(a, `${where} <source><address>`);
      ar.ignoreAttrs('type');
      const n = (k: string) => {
        const v = ar.str(k);
        return v === undefined ? 0 : parseBase0(v, `${where} ${k}`);
      };
      def.pciAddress = { type: 'pci', domain: n('domain'), bus: n('bus'), slot: n('slot'), function: n('function') };
    } else if (type === 'scsi') {
      const proto = sr.enum('protocol', ['adapter', 'iscsi'] as const) ?? 'adapter';
      def.scsiProtocol = proto;
      if (proto === 'adapter') {
        const ad = sr.child('adapter');
        const name = ad?.attr('name');
        if (!name) throw xmlError(where, "SCSI host device must use 'adapter' with a 'name' attribute");
        def.adapter = name;
        const a = sr.child('address');
        if (!a) throw xmlError(where, "'address' must be specified for scsi hostdev source");
        const ar = new ElemReader(a, `${where} <source><address>`);
        def.scsiAddress = { bus: ar.uint('bus') ?? 0, target: ar.uint('target') ?? 0, unit: ar.ulong('unit') ?? 0 };
      } else {
        const name = sr.str('name');
        if (!name) throw xmlError(where, 'missing iSCSI hostdev source path name');
        def.iscsiName = name;
        def.iscsiHosts = sr.children('host').map((h) => {
          const hr = new ElemReader(h, `${where} <host>`);
          const host: StorageHost = {};
          const n = hr.str('name');
          if (n !== undefined) host.name = n;
          const port = hr.uint('port', 65535);
          if (port !== undefined) host.port = port;
          return host;
        });
        const auth = sr.child('auth');
        if (auth) def.iscsiAuth = parseAuth(auth, where);
        const ini = sr.child('initiator');
        if (ini) {
          const iqn = ini.child('iqn')?.attr('name');
          if (iqn !== undefined) def.initiatorIqn = iqn;
        }
      }
    } else if (type === 'scsi_host') {
      const proto = sr.str('protocol');
      if (proto !== 'vhost') throw xmlError(where, "Unknown scsi_host subsystem protocol");
      const wwpn = sr.str('wwpn');
      if (!wwpn) throw xmlError(where, "missing vhost-scsi hostdev source wwpn");
      if (!/^naa\.[0-9a-fA-F]{16}$/.test(wwpn)) throw xmlError(where, `malformed 'wwpn' value '${wwpn}'`);
      def.wwpn = wwpn;
    } else if (type === 'mdev') {
      const a = sr.child('address');
      const uuid = a?.attr('uuid');
      if (!uuid) throw xmlError(where, "Missing 'uuid' attribute for element <address>");
      def.mdevUuid = parseUuid(uuid, `${where} <address>`);
    }
    const k = sr.kept();
    if (k) def.sourceKept = k;
  } else {
    if (!['storage', 'misc', 'net'].includes(type)) throw xmlError(where, `unknown host device capability type '${type}'`);
    if (!src) throw xmlError(where, 'Missing <source> element in hostdev device');
    const sr = new ElemReader(src, `${where} <source>`);
    if (type === 'storage') {
      const b = sr.childTrimmed('block');
      if (!b) throw xmlError(where, 'Missing <block> element in hostdev storage device');
      def.block = b;
    } else if (type === 'misc') {
      const c = sr.childTrimmed('char');
      if (!c) throw xmlError(where, 'Missing <char> element in hostdev character device');
      def.char = c;
    } else {
      const i = sr.childTrimmed('interface');
      if (!i) throw xmlError(where, 'Missing <interface> element in hostdev net device');
      def.interfaceName = i;
      const ips = r.children('ip');
      if (ips.length) def.ips = ips.map((x) => parseIp(x, where));
      const routes = r.children('route');
      if (routes.length) def.routes = routes.map((x) => parseRoute(x, where));
    }
  }
  if (r.child('readonly')) def.readonly = true;
  if (r.child('shareable')) def.shareable = true;
  def.info = parseDeviceInfo(r, ctx, { boot: true, rom: true });
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatHostdev(w: XmlWriter, def: HostdevDef, ctx: FormatContext): void {
  const a: AttrList = [['mode', def.mode], ['type', def.type]];
  if (def.mode === 'subsystem') {
    a.push(['managed', yn(!!def.managed)]);
    if (def.type === 'scsi') a.push(['sgio', def.sgio], ['rawio', yn(def.rawio)]);
    if (def.type === 'scsi_host') a.push(['model', def.scsiHostModel]);
    if (def.type === 'mdev') a.push(['model', def.mdevModel], ['display', oo(def.display)], ['ramfb', oo(def.ramfb)]);
  }
  writeEl(w, 'hostdev', a, (c) => {
    if (def.driverName) c.empty('driver', [['name', def.driverName]]);
    const sk = def.sourceKept;
    if (def.mode === 'subsystem') {
      switch (def.type) {
        case 'usb':
          writeEl(c, 'source', [['startupPolicy', def.startupPolicy], ['guestReset', def.guestReset]], (s) => {
            if (def.vendor !== undefined) {
              s.empty('vendor', [['id', hex(def.vendor, 4)]]);
              s.empty('product', [['id', hex(def.product ?? 0, 4)]]);
            }
            if (def.usbBus !== undefined) s.empty('address', [['bus', def.usbBus], ['device', def.usbDevice]]);
          }, sk, true);
          break;
        case 'pci': {
          const p = def.pciAddress!;
          writeEl(c, 'source', [['writeFiltering', yn(def.writeFiltering)]], (s) => {
            s.empty('address', [['domain', hex(p.domain, 4)], ['bus', hex(p.bus, 2)], ['slot', hex(p.slot, 2)], ['function', `0x${p.function}`]]);
          }, sk, true);
          break;
        }
        case 'scsi':
          if (def.scsiProtocol === 'iscsi') {
            writeEl(c, 'source', [['protocol', 'iscsi'], ['name', def.iscsiName]], (s) => {
              for (const h of def.iscsiHosts ?? []) s.empty('host', [['name', h.name], ['port', h.port]]);
              if (def.iscsiAuth) formatAuth(s, def.iscsiAuth);
              if (def.initiatorIqn !== undefined) {
                s.open('initiator');
                s.empty('iqn', [['name', def.initiatorIqn]]);
                s.close('initiator');
              }
            }, sk, true);
          } else {
            writeEl(c, 'source', [], (s) => {
              s.empty('adapter', [['name', def.adapter]]);
              const sa = def.scsiAddress!;
              s.empty('address', [['bus', sa.bus], ['target', sa.target], ['unit', sa.unit]]);
            }, sk, true);
          }
          break;
        case 'scsi_host':
          writeEl(c, 'source', [['protocol', 'vhost'], ['wwpn', def.wwpn]], undefined, sk, true);
          break;
        case 'mdev':
          writeEl(c, 'source', [], (s) => s.empty('address', [['uuid', def.mdevUuid]]), sk, true);
          break;
      }
    } else {
      writeEl(c, 'source', [], (s) => {
        if (def.type === 'storage') s.text('block', def.block);
        else if (def.type === 'misc') s.text('char', def.char);
        else s.text('interface', def.interfaceName);
      }, sk, true);
      for (const ip of def.ips ?? []) formatIp(c, ip);
      for (const rt of def.routes ?? []) formatRoute(c, rt);
    }
    if (def.readonly) c.empty('readonly');
    if (def.shareable) c.empty('shareable');
    formatDeviceInfo(c, def.info, ctx, { boot: true, rom: true });
  }, def.kept, true);
}
