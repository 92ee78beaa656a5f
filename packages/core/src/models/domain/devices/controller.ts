/** <controller>: buses of the guest (IDE, SCSI, USB, PCI, virtio-serial, …). */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, parseBase0, readScaledAttrKiB, xmlError } from '../reader.js';
import { oo, writeEl, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';
import { formatVirtioOptions, parseVirtioOptions, type VirtioOptions } from './virtio.js';

export const CONTROLLER_TYPES = ['ide', 'fdc', 'scsi', 'sata', 'virtio-serial', 'ccid', 'usb', 'pci', 'xenbus', 'isa'] as const;
export type ControllerType = (typeof CONTROLLER_TYPES)[number];

export const CONTROLLER_MODELS: Partial<Record<ControllerType, readonly string[]>> = {
  scsi: ['auto', 'buslogic', 'lsilogic', 'lsisas1068', 'vmpvscsi', 'ibmvscsi', 'virtio-scsi', 'lsisas1078', 'virtio-transitional', 'virtio-non-transitional', 'ncr53c90', 'am53c974', 'dc390'],
  usb: ['piix3-uhci', 'piix4-uhci', 'ehci', 'ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3', 'vt82c686b-uhci', 'pci-ohci', 'nec-xhci', 'qusb1', 'qusb2', 'qemu-xhci', 'none'],
  pci: ['pci-root', 'pcie-root', 'pci-bridge', 'dmi-to-pci-bridge', 'pcie-root-port', 'pcie-switch-upstream-port', 'pcie-switch-downstream-port', 'pci-expander-bus', 'pcie-expander-bus', 'pcie-to-pci-bridge'],
  ide: ['piix3', 'piix4', 'ich6'],
  'virtio-serial': ['virtio', 'virtio-transitional', 'virtio-non-transitional'],
  isa: [],
};

export const PCI_MODEL_NAMES = [
  'pci-bridge', 'i82801b11-bridge', 'ioh3420', 'x3130-upstream', 'xio3130-downstream', 'pxb', 'pxb-pcie', 'pcie-root-port',
  'spapr-pci-host-bridge', 'pcie-pci-bridge',
] as const;

export interface ControllerPciOptions {
  modelName?: string;
  chassisNr?: number;
  chassis?: number;
  port?: number;
  busNr?: number;
  targetIndex?: number;
  hotplug?: boolean;
  numaNode?: number;
  /** KiB. */
  pcihole64?: number;
  targetKept?: KeptXml;
}

export interface ControllerDriverDef {
  queues?: number;
  cmdPerLun?: number;
  maxSectors?: number;
  ioeventfd?: boolean;
  iothread?: number;
  virtio?: VirtioOptions;
  kept?: KeptXml;
}

export interface ControllerDef {
  type: ControllerType;
  /** -1 until post-parse assigns one. */
  index: number;
  model?: string;
  ports?: number;
  vectors?: number;
  maxGrantFrames?: number;
  maxEventChannels?: number;
  driver?: ControllerDriverDef;
  pci?: ControllerPciOptions;
  info: DeviceInfo;
  kept?: KeptXml;
}

export function parseController(el: XmlElement, ctx: ParseContext): ControllerDef {
  const r = new ElemReader(el, '<controller>');
  const type = r.enum('type', CONTROLLER_TYPES) ?? 'ide';
  const where = `controller type='${type}'`;
  const def: ControllerDef = { type, index: -1, info: {} };
  const idx = r.str('index');
  if (idx !== undefined) {
    if (!/^\s*[0-9]+\s*$/.test(idx) || Number(idx) > 0x7fffffff) throw xmlError(where, `Cannot parse controller index ${idx}`);
    def.index = Number(idx);
  }
  const model = r.str('model');
  if (model !== undefined) {
    const allowed = CONTROLLER_MODELS[type];
    if (!allowed || !allowed.includes(model)) throw xmlError(where, `Unknown model type '${model}'`);
    def.model = model;
  }
  if (type === 'virtio-serial') {
    const ports = r.int('ports', -1);
    if (ports !== undefined && ports >= 0) def.ports = ports;
    const vectors = r.int('vectors', -1);
    if (vectors !== undefined && vectors >= 0) def.vectors = vectors;
  } else if (type === 'usb') {
    const ports = r.int('ports', -1);
    if (ports !== undefined && ports >= 0) def.ports = ports;
  } else if (type === 'xenbus') {
    const g = r.int('maxGrantFrames', -1);
    if (g !== undefined && g >= 0) def.maxGrantFrames = g;
    const e = r.int('maxEventChannels', -1);
    if (e !== undefined && e >= 0) def.maxEventChannels = e;
  }
  const drv = r.child('driver');
  if (drv) {
    const dr = new ElemReader(drv, `${where} <driver>`);
    const d: ControllerDriverDef = {};
    const q = dr.uint('queues');
    if (q !== undefined) d.queues = q;
    const c = dr.uint('cmd_per_lun');
    if (c !== undefined) d.cmdPerLun = c;
    const m = dr.uint('max_sectors');
    if (m !== undefined) d.maxSectors = m;
    const io = dr.onOff('ioeventfd');
    if (io !== undefined) d.ioeventfd = io;
    const it = dr.uint('iothread');
    if (it !== undefined) {
      if (it === 0) throw xmlError(where, "Invalid 'iothread' value '0'");
      d.iothread = it;
    }
    const v = parseVirtioOptions(dr);
    if (v) d.virtio = v;
    const k = dr.kept();
    if (k) d.kept = k;
    def.driver = d;
  }
  if (type === 'pci') {
    const pci: ControllerPciOptions = {};
    const mn = r.child('model');
    if (mn) {
      const name = mn.attr('name');
      if (name !== undefined) {
        if (!(PCI_MODEL_NAMES as readonly string[]).includes(name)) throw xmlError(where, `Unknown PCI controller model name '${name}'`);
        pci.modelName = name;
      }
    }
    const t = r.child('target');
    if (t) {
      const tr = new ElemReader(t, `${where} <target>`);
      const chassisNr = tr.str('chassisNr');
      if (chassisNr !== undefined) {
        const n = parseBase0(chassisNr, `${where} <target> chassisNr`, 0x7fffffff);
        if (n < 1 || n > 255) throw xmlError(where, `PCI controller chassisNr '${chassisNr}' out of range - must be 1-255`);
        pci.chassisNr = n;
      }
      const chassis = tr.str('chassis');
      if (chassis !== undefined) {
        const n = parseBase0(chassis, `${where} <target> chassis`, 0x7fffffff);
        if (n > 255) throw xmlError(where, `PCI controller chassis '${chassis}' out of range - must be 0-255`);
        pci.chassis = n;
      }
      const port = tr.str('port');
      if (port !== undefined) {
        const n = parseBase0(port, `${where} <target> port`, 0x7fffffff);
        if (n > 255) throw xmlError(where, `PCI controller port '${port}' out of range - must be 0-255`);
        pci.port = n;
      }
      const busNr = tr.str('busNr');
      if (busNr !== undefined) {
        const n = parseBase0(busNr, `${where} <target> busNr`, 0x7fffffff);
        if (n < 1 || n > 254) throw xmlError(where, `PCI controller busNr '${busNr}' out of range - must be 1-254`);
        pci.busNr = n;
      }
      const ti = tr.str('index');
      if (ti !== undefined) {
        const n = parseBase0(ti, `${where} <target> index`, 0x7fffffff);
        if (n > 31) throw xmlError(where, `PCI controller target index '${ti}' out of range - must be 0-31`);
        pci.targetIndex = n;
      }
      const hp = tr.onOff('hotplug');
      if (hp !== undefined) pci.hotplug = hp;
      const node = tr.childTrimmed('node');
      if (node !== undefined) {
        if (!/^[0-9]+$/.test(node)) throw xmlError(where, `invalid NUMA node in target '${node}'`);
        pci.numaNode = Number(node);
      }
      const k = tr.kept();
      if (k) pci.targetKept = k;
    }
    const hole = r.child('pcihole64');
    if (hole) {
      const text = hole.text().trim();
      pci.pcihole64 = readScaledAttrKiB(text, hole.attr('unit'), `${where} <pcihole64>`, 1024n);
    }
    if (Object.keys(pci).length) def.pci = pci;
    if ((def.model === 'pci-root' || def.model === 'pcie-root') && def.index > 0) {
      throw xmlError(where, "pci-root and pcie-root controllers should have index 0");
    }
  }
  def.info = parseDeviceInfo(r, ctx);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatController(w: XmlWriter, def: ControllerDef, ctx: FormatContext): void {
  const a: AttrList = [['type', def.type], ['index', def.index], ['model', def.model]];
  if (def.type === 'virtio-serial') a.push(['ports', def.ports], ['vectors', def.vectors]);
  else if (def.type === 'usb') a.push(['ports', def.ports]);
  else if (def.type === 'xenbus') a.push(['maxGrantFrames', def.maxGrantFrames], ['maxEventChannels', def.maxEventChannels]);
  writeEl(w, 'controller', a, (c) => {
    const d = def.driver;
    if (d) {
      const da: AttrList = [['queues', d.queues], ['cmd_per_lun', d.cmdPerLun], ['max_sectors', d.maxSectors], ['ioeventfd', oo(d.ioeventfd)], ['iothread', d.iothread]];
      formatVirtioOptions(da, d.virtio);
      writeEl(c, 'driver', da, undefined, d.kept);
    }
    const p = def.pci;
    if (p) {
      if (p.modelName) c.empty('model', [['name', p.modelName]]);
      const ta: AttrList = [
        ['chassisNr', p.chassisNr], ['chassis', p.chassis], ['port', p.port === undefined ? undefined : '0x' + p.port.toString(16)],
        ['busNr', p.busNr], ['index', p.targetIndex], ['hotplug', oo(p.hotplug)],
      ];
      writeEl(c, 'target', ta, p.numaNode !== undefined ? (t) => t.text('node', p.numaNode) : undefined, p.targetKept);
      if (p.pcihole64 !== undefined) c.text('pcihole64', p.pcihole64, [['unit', 'KiB']]);
    }
    formatDeviceInfo(c, def.info, ctx);
  }, def.kept, true);
}
