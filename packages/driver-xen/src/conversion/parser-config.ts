/**
 * The Xen driver's hooks into the generic domain parser: what libvirt's
 * libxl driver registers (libxl_domain.c: libxlDomainDefPostParse,
 * libxlDomainDeviceDefPostParse, libxlDomainDefValidate) plus the guest
 * table of its capabilities (libxl_capabilities.c).
 */
import {
  generateMac, VirtError,
  type DomainDef, type DomainParserConfig, type InputDef,
} from '@virtkit/core';
import { xenNamespace } from './xen-namespace.js';

/** One guest kind the host can run (a <guest> of the capabilities XML). */
export interface XenGuestCaps {
  /** `hvm`, `xen` (PV) or `xenpvh`. */
  osType: 'hvm' | 'xen' | 'xenpvh';
  arch: string;
  machine: string;
  emulator?: string;
  loader?: string;
}

/** Where the Xen tools keep firmware (libvirt's LIBXL_FIRMWARE_DIR). */
export const DEFAULT_FIRMWARE_DIR = '/usr/lib/xen/boot';
/** The device model QEMU of a Xen install (LIBXL_EXECBIN_DIR/qemu-system-i386). */
export const DEFAULT_DEVICE_MODEL = '/usr/lib/xen/bin/qemu-system-i386';

/** The guests of an x86_64 Xen host, as libvirt's libxl capabilities list them. */
export function defaultGuests(firmwareDir = DEFAULT_FIRMWARE_DIR): XenGuestCaps[] {
  return [
    { osType: 'hvm', arch: 'x86_64', machine: 'xenfv', emulator: DEFAULT_DEVICE_MODEL, loader: `${firmwareDir}/hvmloader` },
    { osType: 'xen', arch: 'x86_64', machine: 'xenpv' },
    { osType: 'xenpvh', arch: 'x86_64', machine: 'xenpvh' },
  ];
}

/** Which device model a guest's emulator is (libxlDomainGetEmulatorType); only qemu-xen is supported here. */
export type XenDeviceModel = 'qemu-xen' | 'qemu-xen-traditional';

export interface XenParserOptions {
  guests?: XenGuestCaps[];
  /** Device model version (libvirt probes the emulator binary; upstream QEMU is `qemu-xen`). */
  deviceModel?: XenDeviceModel;
}

function maybeAddInput(def: DomainDef, type: InputDef['type'], bus: string): void {
  if (def.devices.inputs.some((i) => i.type === type && i.bus === bus)) return;
  def.devices.inputs.push({ type, bus, info: {} });
}

/** libvirt's libxl parser configuration, for a host with these guests. */
export function xenParserConfig(opts: XenParserOptions = {}): DomainParserConfig {
  const guests = opts.guests ?? defaultGuests();
  const dm = opts.deviceModel ?? 'qemu-xen';
  return {
    name: 'xen',
    features: { fwAutoselect: true, netModelString: true },
    namespaces: [xenNamespace],
    domainTypes: ['xen'],
    domainPostParseBasic(def) {
      // virDomainDefParseCaps: a missing arch is the host's (an x86_64 Xen host here).
      if (!def.os.arch) def.os.arch = guests.find((g) => g.osType === def.os.type)?.arch ?? 'x86_64';
    },
    domainPostParse(def) {
      const d = def.devices;
      // Xen PV domains always have a PV console.
      if (def.os.type !== 'hvm' && d.consoles.length === 0) {
        d.consoles.push({ deviceType: 'console', source: { type: 'pty' }, targetType: 'xen', port: 0, info: {} });
      }
      const bus = def.os.type === 'hvm' ? 'ps2' : 'xen';
      maybeAddInput(def, 'mouse', bus);
      maybeAddInput(def, 'keyboard', bus);
      if (def.os.type === 'hvm' && def.os.arch === 'x86_64') {
        def.features ??= { states: {} };
        def.features.states.pae = true;
        if (def.cpu?.numa?.cells.length) def.features.states.acpi = true;
      }
      if (!d.memballoon) d.memballoon = { model: 'xen', info: {} };
      if (!d.controllers.some((c) => c.type === 'xenbus')) {
        let idx = 0;
        while (d.controllers.some((c) => c.type === 'xenbus' && c.index === idx)) idx++;
        d.controllers.push({ type: 'xenbus', index: idx, info: {} });
      }
    },
    devicePostParse(dev, def) {
      switch (dev.kind) {
        case 'chr':
          if (dev.def.deviceType === 'console' && dev.def.targetType === undefined && def.os.type !== 'hvm') dev.def.targetType = 'xen';
          break;
        case 'interface':
          // Xen's OUI for MACs the parser made up (libxl's macPrefix 00:16:3e).
          if (dev.def.macGenerated) dev.def.mac = generateMac('00:16:3e');
          break;
        case 'hostdev': {
          const h = dev.def;
          if (h.mode === 'capabilities') {
            throw new VirtError('CONFIG_UNSUPPORTED', `hostdev mode 'capabilities' is not supported in ${def.type}`, { origin: 'xen' });
          }
          if (h.type === 'pci' && !h.driverName) h.driverName = 'xen';
          break;
        }
        case 'video': {
          const v = dev.def;
          if (v.type === undefined || v.type === 'default') {
            if (def.os.type === 'xen') v.type = 'xen';
            else if (def.os.arch?.startsWith('ppc64')) v.type = 'vga';
            else v.type = 'cirrus';
          }
          if (def.os.type === 'hvm' && !v.vram) {
            if (v.type === 'vga' || v.type === 'xen') v.vram = dm === 'qemu-xen' ? 16 * 1024 : 8 * 1024;
            else if (v.type === 'cirrus') v.vram = dm === 'qemu-xen' ? 8 * 1024 : 4 * 1024;
            else if (v.type === 'qxl') v.vram = 128 * 1024;
          }
          break;
        }
        case 'disk': {
          const disk = dev.def;
          if (disk.src.type === 'network' && !disk.driver.name) disk.driver.name = 'qemu';
          // xl.cfg's default format is raw (xl-disk-configuration(5)).
          if (!disk.src.format) disk.src.format = 'raw';
          break;
        }
        default:
          break;
      }
    },
    implicitVideoModel: () => '',
    validateDomain(def) {
      const known = guests.filter((g) => g.osType === def.os.type);
      if (known.length === 0) {
        throw new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': no guest options available for os type '${def.os.type === 'xen' ? 'linux' : def.os.type}' on this Xen host`, { origin: 'xen' });
      }
      if (def.os.arch && !known.some((g) => g.arch === def.os.arch)) {
        throw new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': no guest options available for arch '${def.os.arch}'`, { origin: 'xen' });
      }
      const secureFw = def.os.firmware === 'efi' && def.os.firmwareFeatures?.some((f) => f.name === 'secure-boot' && f.enabled);
      if (secureFw || (def.os.loader?.type === 'pflash' && def.os.loader.secure)) {
        throw new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': Secure boot is not supported on Xen`, { origin: 'xen' });
      }
    },
  };
}
