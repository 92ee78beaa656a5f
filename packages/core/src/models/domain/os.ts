/**
 * <os>: guest type, architecture and machine, firmware and loader, NVRAM,
 * direct kernel boot, container init, boot order, boot menu, BIOS and
 * SMBIOS mode; plus the Xen <bootloader> elements.
 */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlWriter } from '../../xml/write.js';
import { ElemReader, xmlError } from './reader.js';
import { writeEl, yn } from './writer.js';
import { parseStorageSource, formatStorageSourceChildren, sourceAttrs, type StorageSource } from './devices/storage-source.js';
import type { ParseContext, FormatContext } from './context.js';

export const OS_TYPES = ['hvm', 'xen', 'linux', 'exe', 'uml', 'xenpvh'] as const;
export type OsType = 'hvm' | 'xen' | 'exe' | 'uml' | 'xenpvh';
export const BOOT_DEVICES = ['fd', 'cdrom', 'hd', 'network'] as const;
export type BootDevice = (typeof BOOT_DEVICES)[number];

export const ARCHES = [
  'none', 'alpha', 'armv6l', 'armv7l', 'armv7b', 'aarch64', 'cris', 'i686', 'ia64', 'lm32', 'loongarch64', 'm68k', 'microblaze',
  'microblazeel', 'mips', 'mipsel', 'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc', 'ppcle', 'ppc64', 'ppc64le',
  'ppcemb', 'riscv32', 'riscv64', 's390', 's390x', 'sh4', 'sh4eb', 'sparc', 'sparc64', 'unicore32', 'x86_64', 'xtensa', 'xtensaeb',
] as const;

export interface LoaderDef {
  path?: string;
  readonly?: boolean;
  secure?: boolean;
  stateless?: boolean;
  type?: 'rom' | 'pflash';
  format?: string;
  kept?: KeptXml;
}

export interface NvramDef {
  /** Local file path (the plain `<nvram>path</nvram>` form). */
  path?: string;
  template?: string;
  templateFormat?: string;
  format?: string;
  /** `<nvram type='file|block|network'>` with a <source>. */
  source?: StorageSource;
  kept?: KeptXml;
}

export interface OsDef {
  type: OsType;
  arch?: string;
  machine?: string;
  /** <os firmware='efi|bios'> autoselection. */
  firmware?: string;
  firmwareFeatures?: Array<{ name: string; enabled: boolean }>;
  loader?: LoaderDef;
  nvram?: NvramDef;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  dtb?: string;
  root?: string;
  slicTable?: string;
  init?: string;
  initargs: string[];
  initenv: Array<{ name: string; value: string }>;
  initdir?: string;
  inituser?: string;
  initgroup?: string;
  bootDevs: BootDevice[];
  bootmenu?: { enable: boolean; timeout?: number };
  bios?: { useserial?: boolean; rebootTimeout?: number };
  smbios?: 'emulate' | 'host' | 'sysinfo';
  /** Xen PV bootloader (top-level <bootloader>/<bootloader_args>). */
  bootloader?: string;
  bootloaderArgs?: string;
  kept?: KeptXml;
  typeKept?: KeptXml;
}

const ENV_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parseOs(root: ElemReader, ctx: ParseContext): OsDef {
  const el = root.child('os');
  const os: OsDef = { type: 'hvm', initargs: [], initenv: [], bootDevs: [] };
  const bl = root.child('bootloader');
  if (bl) os.bootloader = bl.text().trim();
  const bla = root.childText('bootloader_args');
  if (bla !== undefined) os.bootloaderArgs = bla;
  if (!el) throw xmlError('<os>', "an os <type> must be specified");
  const r = new ElemReader(el, '<os>');
  const typeEl = r.child('type');
  if (!typeEl) throw xmlError('<os>', "an os <type> must be specified");
  const tr = new ElemReader(typeEl, '<os><type>');
  const t = typeEl.text().trim();
  if (!(OS_TYPES as readonly string[]).includes(t)) throw xmlError('<os><type>', `unknown OS type '${t}'`);
  os.type = t === 'linux' ? 'xen' : (t as OsType);
  const arch = tr.str('arch');
  if (arch !== undefined) {
    if (!(ARCHES as readonly string[]).includes(arch)) throw xmlError('<os><type>', `Unknown architecture ${arch}`);
    os.arch = arch;
  }
  const machine = tr.str('machine');
  if (machine !== undefined) os.machine = machine;
  const tk = tr.kept();
  if (tk) os.typeKept = tk;

  const fw = r.str('firmware');
  if (fw !== undefined) {
    if (fw !== 'bios' && fw !== 'efi') throw xmlError('<os>', `unknown firmware value ${fw}`);
    os.firmware = fw;
  }
  const fwEl = r.child('firmware');
  if (fwEl) {
    const feats: Array<{ name: string; enabled: boolean }> = [];
    for (const f of fwEl.elements('feature')) {
      const fr = new ElemReader(f, '<os><firmware><feature>');
      const name = fr.enumReq('name', ['enrolled-keys', 'secure-boot'] as const);
      const enabled = fr.yesNo('enabled');
      if (enabled === undefined) throw xmlError('<os><firmware><feature>', "missing required attribute 'enabled'");
      feats.push({ name, enabled });
    }
    os.firmwareFeatures = feats;
  }
  const init = r.childText('init');
  if (init !== undefined) os.init = init.trim();
  for (const a of r.children('initarg')) os.initargs.push(a.text());
  for (const e of r.children('initenv')) {
    const name = e.attr('name');
    if (name === undefined) throw xmlError('<os><initenv>', 'No name supplied for <initenv> element');
    if (!ENV_NAME.test(name)) throw xmlError('<os><initenv>', `Invalid environment variable name '${name}'`);
    os.initenv.push({ name, value: e.text() });
  }
  const initdir = r.childText('initdir');
  if (initdir !== undefined) os.initdir = initdir.trim();
  const inituser = r.childText('inituser');
  if (inituser !== undefined) os.inituser = inituser.trim();
  const initgroup = r.childText('initgroup');
  if (initgroup !== undefined) os.initgroup = initgroup.trim();

  const loaderEl = r.child('loader');
  if (loaderEl) {
    const lr = new ElemReader(loaderEl, '<os><loader>');
    const l: LoaderDef = {};
    const p = loaderEl.text().trim();
    if (p) l.path = p;
    const ro = lr.yesNo('readonly');
    if (ro !== undefined) l.readonly = ro;
    const sec = lr.yesNo('secure');
    if (sec !== undefined) l.secure = sec;
    const sl = lr.yesNo('stateless');
    if (sl !== undefined) l.stateless = sl;
    const lt = lr.enum('type', ['rom', 'pflash'] as const);
    if (lt) l.type = lt;
    const lf = lr.enum('format', ['raw', 'qcow2'] as const);
    if (lf) l.format = lf;
    const k = lr.kept();
    if (k) l.kept = k;
    os.loader = l;
  }
  const nvEl = r.child('nvram');
  if (nvEl) {
    const nr = new ElemReader(nvEl, '<os><nvram>');
    const nv: NvramDef = {};
    const tmpl = nr.str('template');
    if (tmpl !== undefined) nv.template = tmpl;
    const tf = nr.str('templateFormat');
    if (tf !== undefined) nv.templateFormat = tf;
    const f = nr.str('format');
    if (f !== undefined) nv.format = f;
    const type = nr.str('type');
    if (type !== undefined) {
      const srcEl = nr.child('source');
      if (!srcEl) throw xmlError('<os><nvram>', "Missing source element for nvram");
      nv.source = parseStorageSource(nvEl, type, srcEl, ctx, '<os><nvram>');
      if (nv.source.type !== 'file' && nv.source.type !== 'block' && nv.source.type !== 'network') {
        throw xmlError('<os><nvram>', `unsupported nvram disk type '${type}'`);
      }
    } else {
      const p = nvEl.text().trim();
      if (p) nv.path = p;
    }
    const k = nr.kept();
    if (k) nv.kept = k;
    os.nvram = nv;
  }
  const kernel = r.childText('kernel');
  if (kernel !== undefined) os.kernel = kernel.trim();
  const initrd = r.childText('initrd');
  if (initrd !== undefined) os.initrd = initrd.trim();
  const cmdline = r.childText('cmdline');
  if (cmdline !== undefined) os.cmdline = cmdline;
  const dtb = r.childText('dtb');
  if (dtb !== undefined) os.dtb = dtb.trim();
  const rootDev = r.childText('root');
  if (rootDev !== undefined) os.root = rootDev.trim();
  const acpi = r.child('acpi');
  if (acpi) {
    const tables = acpi.elements('table');
    if (tables.length > 1) throw xmlError('<os><acpi>', 'Only one acpi table is supported');
    if (tables[0]) {
      const tt = tables[0].attr('type');
      if (tt !== 'slic') throw xmlError('<os><acpi><table>', `Unknown acpi table type: ${tt ?? ''}`);
      os.slicTable = tables[0].text().trim();
    }
  }
  for (const b of r.children('boot')) {
    const dev = b.attr('dev');
    if (dev === undefined) throw xmlError('<os><boot>', 'missing boot device');
    if (!(BOOT_DEVICES as readonly string[]).includes(dev)) throw xmlError('<os><boot>', `unknown boot device '${dev}'`);
    if (os.bootDevs.length < BOOT_DEVICES.length) os.bootDevs.push(dev as BootDevice);
  }
  const bm = r.child('bootmenu');
  if (bm) {
    const br = new ElemReader(bm, '<os><bootmenu>');
    const enable = br.yesNo('enable');
    if (enable !== undefined) {
      os.bootmenu = { enable };
      const timeout = br.str('timeout');
      if (timeout !== undefined && enable) {
        if (!/^[0-9]+$/.test(timeout) || Number(timeout) > 65535) throw xmlError('<os><bootmenu>', 'invalid value for boot menu timeout, must be in range [0,65535]');
        os.bootmenu.timeout = Number(timeout);
      }
    }
  }
  const bios = r.child('bios');
  if (bios) {
    const br = new ElemReader(bios, '<os><bios>');
    os.bios = {};
    const us = br.yesNo('useserial');
    if (us !== undefined) os.bios.useserial = us;
    const rt = br.str('rebootTimeout');
    if (rt !== undefined) {
      const n = /^-?[0-9]+$/.test(rt) ? Number(rt) : NaN;
      if (!(n >= -1 && n <= 65535)) throw xmlError('<os><bios>', 'invalid value for rebootTimeout, must be in range [-1,65535]');
      os.bios.rebootTimeout = n;
    }
  }
  const smbios = r.child('smbios');
  if (smbios) {
    const m = new ElemReader(smbios, '<os><smbios>').enum('mode', ['none', 'emulate', 'host', 'sysinfo'] as const);
    if (m === undefined) throw xmlError('<os><smbios>', 'Missing or invalid smbios mode');
    if (m !== 'none') os.smbios = m;
  }
  const kept = r.kept();
  if (kept) os.kept = kept;
  return os;
}

export function formatOs(w: XmlWriter, os: OsDef, ctx: FormatContext, virtType?: string): void {
  if (os.bootloader !== undefined) {
    if (os.bootloader === '') w.empty('bootloader');
    else w.text('bootloader', os.bootloader);
  }
  if (os.bootloaderArgs !== undefined) w.text('bootloader_args', os.bootloaderArgs);
  writeEl(w, 'os', [['firmware', os.firmware]], (c) => {
    const ta: Array<readonly [string, string | undefined]> = [['arch', os.arch], ['machine', os.machine]];
    // Xen PV guests keep their historical os type name 'linux' (libvirt's backcompat hack).
    const typeName = os.type === 'xen' && virtType === 'xen' ? 'linux' : os.type;
    c.text('type', typeName, os.typeKept?.attrs ? [...ta, ...os.typeKept.attrs] : ta);
    if (os.firmwareFeatures && os.firmwareFeatures.length) {
      c.open('firmware');
      for (const f of os.firmwareFeatures) c.empty('feature', [['enabled', yn(f.enabled)], ['name', f.name]]);
      c.close('firmware');
    }
    c.text('init', os.init);
    for (const a of os.initargs) c.text('initarg', a);
    for (const e of os.initenv) c.text('initenv', e.value, [['name', e.name]]);
    c.text('initdir', os.initdir);
    c.text('inituser', os.inituser);
    c.text('initgroup', os.initgroup);
    const l = os.loader;
    if (l) {
      const la: Array<readonly [string, string | undefined]> = [
        ['readonly', yn(l.readonly)], ['secure', yn(l.secure)], ['stateless', yn(l.stateless)], ['type', l.type], ['format', l.format],
      ];
      if (l.kept?.attrs) la.push(...l.kept.attrs);
      if (l.path) c.text('loader', l.path, la);
      else c.element('loader', la);
    }
    const nv = os.nvram;
    if (nv) {
      const na: Array<readonly [string, string | undefined]> = [['template', nv.template], ['templateFormat', nv.templateFormat], ['format', nv.format]];
      if (nv.source) {
        const src = nv.source;
        na.push(['type', src.type]);
        writeEl(c, 'nvram', na, (n) => {
          writeEl(n, 'source', sourceAttrs(src, ctx), (s) => formatStorageSourceChildren(s, src, ctx, true), src.sourceKept);
        }, nv.kept, true);
      } else if (nv.path) c.text('nvram', nv.path, nv.kept?.attrs ? [...na, ...nv.kept.attrs] : na);
      else c.element('nvram', na);
    }
    c.text('kernel', os.kernel);
    c.text('initrd', os.initrd);
    c.text('cmdline', os.cmdline);
    c.text('dtb', os.dtb);
    c.text('root', os.root);
    if (os.slicTable) {
      c.open('acpi');
      c.text('table', os.slicTable, [['type', 'slic']]);
      c.close('acpi');
    }
    if (!os.bootloader) {
      for (const b of os.bootDevs) c.empty('boot', [['dev', b]]);
      if (os.bootmenu) c.empty('bootmenu', [['enable', yn(os.bootmenu.enable)], ['timeout', os.bootmenu.timeout]]);
      if (os.bios && (os.bios.useserial !== undefined || os.bios.rebootTimeout !== undefined)) {
        c.empty('bios', [['useserial', yn(os.bios.useserial)], ['rebootTimeout', os.bios.rebootTimeout]]);
      }
    }
    if (os.smbios) c.empty('smbios', [['mode', os.smbios]]);
  }, os.kept, true);
}
