/**
 * Domain definition → xl.cfg settings, in the order and form of libvirt's
 * xenFormatXL (src/libxl/xen_xl.c) and xenFormatConfigCommon
 * (src/libxl/xen_common.c), so `formatConf` writes what virConfWriteMem would.
 */
import { formatIdList, VirtError, type ConfEntry, type DiskDef, type DomainDef, type NumaCell } from '@virtkit/core';
import { XlConfWriter } from './conf-access.js';
import { formatCharSpec } from './char-spec.js';
import { cpuFeatureToLibxl } from './cpuid.js';
import { formatRbdColonString } from './rbd.js';
import { formatVif } from './vif.js';
import { xenNamespaceData } from './xen-namespace.js';

export interface XlFormatOptions {
  /** Resolves a libvirt network's bridge for `<interface type='network'>`. */
  bridgeOfNetwork?: (name: string) => string | undefined;
}

function unsupported(def: DomainDef, what: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': ${what}`, { origin: 'xen' });
}

function formatMem(w: XlConfWriter, def: DomainDef): void {
  w.setInt('maxmem', Math.ceil(def.memory.total / 1024));
  w.setInt('memory', Math.ceil(def.memory.current / 1024));
}

function formatCpuAllocation(w: XlConfWriter, def: DomainDef): void {
  if (def.vcpu.current < def.vcpu.max) w.setInt('maxvcpus', def.vcpu.max);
  w.setInt('vcpus', def.vcpu.current);
  if (def.vcpu.cpuset?.length) w.setString('cpus', formatIdList(def.vcpu.cpuset));
}

function formatHypervisorFeatures(w: XlConfWriter, def: DomainDef): void {
  const st = def.features?.states ?? {};
  const hvm = def.os.type === 'hvm';
  if (hvm) {
    w.setInt('pae', st.pae ? 1 : 0);
    w.setInt('acpi', st.acpi ? 1 : 0);
    w.setInt('apic', st.apic ? 1 : 0);
    if (st.hap === false) w.setInt('hap', 0);
    w.setInt('viridian', st.viridian ? 1 : 0);
  } else if (st.xen && def.features?.xen?.e820Host) w.setInt('e820_host', 1);
  const xen = def.features?.xen;
  if (st.xen && xen?.passthrough) {
    const mode = xen.passthroughMode;
    w.setString('passthrough', mode === 'sync_pt' || mode === 'share_pt' ? mode : 'enabled');
  }
  for (const t of def.clock.timers) {
    switch (t.name) {
      case 'tsc':
        if (t.mode === 'native') w.setString('tsc_mode', 'native');
        else if (t.mode === 'paravirt') w.setString('tsc_mode', 'native_paravirt');
        else if (t.mode === 'emulate') w.setString('tsc_mode', 'always_emulate');
        else w.setString('tsc_mode', 'default');
        break;
      case 'hpet':
        if (!hvm) throw unsupported(def, `unsupported timer type (name) '${t.name}'`);
        w.setInt('hpet', t.present === false ? 0 : 1);
        break;
      default:
        throw unsupported(def, `unsupported timer type (name) '${t.name}'`);
    }
  }
}

function formatTimeOffset(w: XlConfWriter, def: DomainDef): void {
  const clk = def.clock;
  let localtime: number;
  if (def.os.type === 'hvm') {
    let offset: number;
    switch (clk.offset) {
      case 'variable':
        localtime = clk.basis === 'localtime' ? 1 : 0;
        offset = clk.adjustment ?? 0;
        break;
      case 'utc':
      case 'localtime':
        if (clk.reset) throw unsupported(def, "unsupported clock adjustment='reset'");
        localtime = clk.offset === 'localtime' ? 1 : 0;
        offset = 0;
        break;
      default:
        throw unsupported(def, `unsupported clock offset='${clk.offset}'`);
    }
    w.setInt('rtc_timeoffset', offset);
  } else {
    if (clk.offset === 'utc') localtime = 0;
    else if (clk.offset === 'localtime') localtime = 1;
    else throw unsupported(def, `unsupported clock offset='${clk.offset}'`);
  }
  w.setInt('localtime', localtime);
}

function formatEventActions(w: XlConfWriter, def: DomainDef): void {
  w.setString('on_poweroff', def.lifecycle.onPoweroff);
  w.setString('on_reboot', def.lifecycle.onReboot);
  w.setString('on_crash', def.lifecycle.onCrash);
}

function formatVfb(w: XlConfWriter, def: DomainDef): void {
  const gs = def.devices.graphics;
  if (gs.length !== 1 || gs[0]!.type === 'spice') return;
  const g = gs[0]!;
  const listen = g.listens[0]?.address;
  if (def.os.type === 'hvm') {
    if (g.type === 'sdl') {
      w.setInt('sdl', 1);
      w.setInt('vnc', 0);
      if (g.display !== undefined) w.setString('display', g.display);
      if (g.xauth !== undefined) w.setString('xauthority', g.xauth);
    } else {
      w.setInt('sdl', 0);
      w.setInt('vnc', 1);
      w.setInt('vncunused', g.autoport ? 1 : 0);
      if (!g.autoport) w.setInt('vncdisplay', (g.port ?? 0) - 5900);
      if (listen !== undefined) w.setString('vnclisten', listen);
      if (g.auth?.passwd !== undefined) w.setString('vncpasswd', g.auth.passwd);
      if (g.keymap !== undefined) w.setString('keymap', g.keymap);
    }
    return;
  }
  let s: string;
  if (g.type === 'sdl') {
    s = 'type=sdl';
    if (g.display !== undefined) s += `,display=${g.display}`;
    if (g.xauth !== undefined) s += `,xauthority=${g.xauth}`;
  } else {
    s = `type=vnc,vncunused=${g.autoport ? 1 : 0}`;
    if (!g.autoport) s += `,vncdisplay=${(g.port ?? 0) - 5900}`;
    if (listen !== undefined) s += `,vnclisten=${listen}`;
    if (g.auth?.passwd !== undefined) s += `,vncpasswd=${g.auth.passwd}`;
    if (g.keymap !== undefined) s += `,keymap=${g.keymap}`;
  }
  w.setStringList('vfb', [s]);
}

function formatPci(w: XlConfWriter, def: DomainDef): void {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  const out: string[] = [];
  for (const h of def.devices.hostdevs) {
    if (h.mode !== 'subsystem' || h.type !== 'pci' || !h.pciAddress) continue;
    const p = h.pciAddress;
    const perm = h.writeFiltering === true ? ',permissive=0' : h.writeFiltering === false ? ',permissive=1' : '';
    out.push(`${hex(p.domain, 4)}:${hex(p.bus, 2)}:${hex(p.slot, 2)}.${p.function.toString(16)}${perm}`);
  }
  w.setStringList('pci', out);
}

function formatCharDev(w: XlConfWriter, def: DomainDef): void {
  if (def.os.type !== 'hvm') return;
  const d = def.devices;
  w.setString('parallel', d.parallels.length ? formatCharSpec(d.parallels[0]!.source) : 'none');
  if (d.serials.length === 0) {
    w.setString('serial', 'none');
    return;
  }
  if (d.serials.length === 1 && d.serials[0]!.port === 0) {
    w.setString('serial', formatCharSpec(d.serials[0]!.source));
    return;
  }
  const maxPort = Math.max(-1, ...d.serials.map((s) => s.port));
  const items: string[] = [];
  for (let port = 0; port <= maxPort; port++) {
    const s = d.serials.find((x) => x.port === port);
    items.push(s ? formatCharSpec(s.source) : 'none');
  }
  w.setStringList('serial', items);
}

function formatSound(w: XlConfWriter, def: DomainDef): void {
  if (def.os.type !== 'hvm' || def.devices.sounds.length === 0) return;
  w.setString('soundhw', def.devices.sounds.map((s) => s.model.replace(/[\\']/g, (c) => `\\${c}`)).join(','));
}

function formatOs(w: XlConfWriter, def: DomainDef): void {
  const os = def.os;
  if (os.type === 'hvm') {
    w.setString('builder', 'hvm');
    if (os.loader?.type === 'pflash') w.setString('bios', 'ovmf');
    if (os.slicTable !== undefined) w.setString('acpi_firmware', os.slicTable);
    if (os.kernel !== undefined) w.setString('kernel', os.kernel);
    if (os.initrd !== undefined) w.setString('ramdisk', os.initrd);
    if (os.cmdline !== undefined) w.setString('cmdline', os.cmdline);
    const letter = { fd: 'a', cdrom: 'd', network: 'n', hd: 'c' } as const;
    w.setString('boot', os.bootDevs.length ? os.bootDevs.map((b) => letter[b] ?? 'c').join('') : 'c');
    if (def.cpu?.mode === 'host-passthrough') {
      const off = def.cpu.features.some((f) => (f.policy === 'disable' || f.policy === 'forbid') && (f.name === 'vmx' || f.name === 'svm'));
      w.setInt('nestedhvm', off ? 0 : 1);
    }
    return;
  }
  if (os.type === 'xenpvh') w.setString('type', 'pvh');
  if (os.bootloader) w.setString('bootloader', os.bootloader);
  if (os.bootloaderArgs !== undefined) w.setString('bootargs', os.bootloaderArgs);
  if (os.kernel !== undefined) w.setString('kernel', os.kernel);
  if (os.initrd !== undefined) w.setString('ramdisk', os.initrd);
  if (os.cmdline !== undefined) w.setString('cmdline', os.cmdline);
}

function formatCpuid(w: XlConfWriter, def: DomainDef): void {
  if (!def.cpu || def.cpu.mode !== 'host-passthrough') return;
  const pairs = ['host'];
  for (const f of def.cpu.features) {
    const name = cpuFeatureToLibxl(f.name);
    if (name === 'vmx' || name === 'svm') continue;
    const policy = f.policy === 'force' || f.policy === 'require' ? '1' : f.policy === 'optional' ? 'x' : '0';
    pairs.push(`${name}=${policy}`);
  }
  if (pairs.length > 1) w.setString('cpuid', pairs.join(','));
}

/**
 * NUMA distances as libvirt holds them after parsing: the given siblings,
 * mirrored where the other side is unset, with 10 to the node itself
 * (virDomainNumaDefNodeDistanceParseXML); unset pairs read as 10/20.
 */
function distanceMatrix(cells: NumaCell[]): number[][] {
  const n = cells.length;
  const m: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const has = new Array<boolean>(n).fill(false);
  for (const cell of cells) {
    const cur = cell.id;
    if (cur >= n) continue;
    for (const s of cell.distances ?? []) {
      if (s.id >= n) continue;
      if (!has[cur]) {
        has[cur] = true;
        m[cur]![cur] = 10;
      }
      m[cur]![s.id] = s.value;
      if (!has[s.id]) {
        has[s.id] = true;
        m[s.id]![s.id] = 10;
      }
      if (!m[s.id]![cur]) m[s.id]![cur] = s.value;
    }
  }
  return m.map((row, i) => row.map((v, j) => v || (i === j ? 10 : 20)));
}

function formatVnuma(w: XlConfWriter, def: DomainDef): void {
  const cells = [...(def.cpu?.numa?.cells ?? [])].sort((a, b) => a.id - b.id);
  if (!cells.length) return;
  const dist = distanceMatrix(cells);
  const nodes = cells.map((cell, i) => ({
    type: 'list' as const,
    items: [
      `pnode=${i}`,
      `size=${Math.floor(cell.memory / 1024)}`,
      `vcpus=${formatIdList(cell.cpus ?? [])}`,
      `vdistances=${dist[i]!.join(',')}`,
    ].map((value) => ({ type: 'string' as const, value })),
  }));
  w.set('vnuma', { type: 'list', items: nodes });
}

function formatXenbusLimits(w: XlConfWriter, def: DomainDef): void {
  for (const c of def.devices.controllers) {
    if (c.type !== 'xenbus') continue;
    if (c.maxEventChannels && c.maxEventChannels > 0) w.setInt('max_event_channels', c.maxEventChannels);
    if (c.maxGrantFrames && c.maxGrantFrames > 0) w.setInt('max_grant_frames', c.maxGrantFrames);
  }
}

const FORMAT_NAMES: Record<string, string> = { raw: 'raw', vhd: 'xvhd', qcow: 'qcow', qcow2: 'qcow2', qed: 'qed' };

function diskTarget(def: DomainDef, disk: DiskDef): string | undefined {
  const src = disk.src;
  switch (src.type) {
    case 'file':
    case 'block':
    case 'dir':
      return src.path || undefined;
    case 'network':
      return formatRbdColonString(src);
    default:
      throw new VirtError('INTERNAL_ERROR', `domain '${def.name}': disk '${disk.dst}': unsupported storage type '${src.type}' for xl.cfg`, { origin: 'xen' });
  }
}

/** One `<disk>` as an xl disk spec (xenFormatXLDisk). */
export function formatXlDiskSpec(def: DomainDef, disk: DiskDef): string {
  let s = `format=${FORMAT_NAMES[disk.src.format ?? ''] ?? 'raw'}`;
  s += `,vdev=${disk.dst}`;
  s += `,access=${disk.readonly ? 'ro' : disk.shareable ? '!' : 'rw'}`;
  if (disk.transient) throw unsupported(def, 'transient disks not supported yet');
  const drv = disk.driver.name;
  if (drv !== undefined) {
    s += ',backendtype=';
    if (drv === 'qemu' || drv === 'file') s += 'qdisk';
    else if (drv === 'tap' || drv === 'phy') s += drv;
  }
  if (disk.device === 'cdrom') s += ',devtype=cdrom';
  // target= swallows the rest of the spec, so it comes last.
  const target = diskTarget(def, disk);
  if (target !== undefined) s += `,target=${target}`;
  return s;
}

function formatDisks(w: XlConfWriter, def: DomainDef): void {
  w.setStringList('disk', def.devices.disks.filter((d) => d.device !== 'floppy').map((d) => formatXlDiskSpec(def, d)));
}

function formatSpice(w: XlConfWriter, def: DomainDef): void {
  const g = def.devices.graphics[0];
  if (def.os.type !== 'hvm' || !g || g.type !== 'spice') return;
  w.setInt('sdl', 0);
  w.setInt('vnc', 0);
  w.setInt('spice', 1);
  const listen = g.listens[0]?.address;
  if (listen !== undefined) w.setString('spicehost', listen);
  w.setInt('spiceport', g.port ?? 0);
  w.setInt('spicetls_port', g.tlsPort ?? 0);
  if (g.auth?.passwd !== undefined) {
    w.setInt('spicedisable_ticketing', 0);
    w.setString('spicepasswd', g.auth.passwd);
  } else w.setInt('spicedisable_ticketing', 1);
  if (g.mouseMode === 'server') w.setInt('spiceagent_mouse', 0);
  else if (g.mouseMode === 'client') {
    w.setInt('spiceagent_mouse', 1);
    // client mouse mode needs the vdagent
    w.setInt('spicevdagent', 1);
  }
  if (g.copypaste === true) {
    w.setInt('spice_clipboard_sharing', 1);
    w.setInt('spicevdagent', 1);
  }
}

function formatInputDevs(w: XlConfWriter, def: DomainDef): void {
  if (def.os.type !== 'hvm') return;
  const devs: string[] = [];
  for (const i of def.devices.inputs) {
    if (i.bus !== 'usb') continue;
    w.setInt('usb', 1);
    if (i.type === 'mouse' || i.type === 'tablet' || i.type === 'keyboard') devs.push(i.type);
  }
  // One device keeps the pre-4.3 single-string syntax.
  if (devs.length === 1) w.setString('usbdevice', devs[0]!);
  else w.setStringList('usbdevice', devs);
}

function formatUsb(w: XlConfWriter, def: DomainDef): void {
  const out: string[] = [];
  for (const h of def.devices.hostdevs) {
    if (h.mode !== 'subsystem' || h.type !== 'usb') continue;
    out.push(`hostbus=${(h.usbBus ?? 0).toString(16)},hostaddr=${(h.usbDevice ?? 0).toString(16)}`);
  }
  w.setStringList('usbdev', out);
}

function formatUsbControllers(w: XlConfWriter, def: DomainDef): void {
  const out: string[] = [];
  for (const c of def.devices.controllers) {
    if (c.type !== 'usb') continue;
    let s = '';
    if (c.model !== undefined) {
      if (c.model === 'qusb1') s += 'type=qusb,version=1,';
      else if (c.model === 'qusb2') s += 'type=qusb,version=2,';
      else throw unsupported(def, `USB controller model '${c.model}' is not supported by xl (only qusb1 and qusb2)`);
    }
    if (c.ports !== undefined) s += `ports=${c.ports.toString(16)}`;
    out.push(s);
  }
  w.setStringList('usbctrl', out);
}

function formatChannels(w: XlConfWriter, def: DomainDef): void {
  const out: string[] = [];
  for (const ch of def.devices.channels) {
    if (ch.targetType !== 'xen') continue;
    let s = 'connection=';
    if (ch.source.type === 'pty') s += 'pty,';
    else if (ch.source.type === 'unix') {
      s += 'socket,';
      if (ch.source.path) s += `path=${ch.source.path},`;
    } else throw unsupported(def, `channel '${ch.name ?? ''}': source type '${ch.source.type}' is not supported by xl (pty or unix)`);
    s += `name=${ch.name ?? '(null)'}`;
    out.push(s);
  }
  w.setStringList('channel', out);
}

/** The xl.cfg settings of a domain (libvirt's domxml-to-native xen-xl). */
export function domainDefToXlEntries(def: DomainDef, opts: XlFormatOptions = {}): ConfEntry[] {
  const w = new XlConfWriter();
  w.setString('name', def.name);
  w.setString('uuid', def.uuid);
  formatMem(w, def);
  formatCpuAllocation(w, def);
  formatHypervisorFeatures(w, def);
  formatTimeOffset(w, def);
  formatEventActions(w, def);
  if (def.devices.emulator !== undefined) w.setString('device_model_override', def.devices.emulator);
  formatVfb(w, def);
  w.setStringList('vif', def.devices.interfaces.map((n) => formatVif(n, def.os.type === 'hvm', 'vif', opts.bridgeOfNetwork)));
  formatPci(w, def);
  formatCharDev(w, def);
  formatSound(w, def);
  formatOs(w, def);
  formatCpuid(w, def);
  formatVnuma(w, def);
  formatXenbusLimits(w, def);
  formatDisks(w, def);
  formatSpice(w, def);
  formatInputDevs(w, def);
  formatUsb(w, def);
  formatUsbControllers(w, def);
  formatChannels(w, def);
  const ns = xenNamespaceData(def);
  if (ns) w.setStringList('device_model_args', ns.args);
  return w.entries;
}
