/**
 * Character devices: the shared source (pty, file, tcp, unix, …) and the
 * <serial>, <parallel>, <console> and <channel> devices built on it.
 */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { ElemReader, xmlError } from '../reader.js';
import { oo, writeEl, yn, type AttrList } from '../writer.js';
import type { FormatContext, ParseContext } from '../context.js';
import { formatDeviceSeclabels, parseDeviceSeclabels, type DeviceSeclabelDef } from '../security.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './info.js';

export const CHR_TYPES = [
  'null', 'vc', 'pty', 'dev', 'file', 'pipe', 'stdio', 'udp', 'tcp', 'unix', 'spicevmc', 'spiceport', 'nmdm', 'qemu-vdagent', 'dbus',
] as const;
export type ChrType = (typeof CHR_TYPES)[number];

export interface ChrReconnect {
  enabled: boolean;
  timeout?: number;
}

export interface ChrSourceDef {
  type: ChrType;
  /** pty/dev/file/pipe/unix path. */
  path?: string;
  append?: boolean;
  /** tcp/unix: listen (bind) instead of connect. */
  listen?: boolean;
  host?: string;
  service?: string;
  protocol?: 'raw' | 'telnet' | 'telnets' | 'tls';
  tls?: boolean;
  /** udp */
  bindHost?: string;
  bindService?: string;
  connectHost?: string;
  connectService?: string;
  reconnect?: ChrReconnect;
  /** spiceport / dbus channel. */
  channel?: string;
  /** nmdm */
  master?: string;
  slave?: string;
  /** qemu-vdagent */
  clipboardCopypaste?: boolean;
  mouseMode?: 'server' | 'client';
  log?: { file: string; append?: boolean };
  seclabels?: DeviceSeclabelDef[];
  sourceKept?: KeptXml;
}

function parseReconnect(el: XmlElement, where: string): ChrReconnect {
  const r = new ElemReader(el, `${where} <reconnect>`);
  const enabled = r.yesNo('enabled');
  if (enabled === undefined) throw xmlError(`${where} <reconnect>`, "missing 'enabled' attribute for reconnect");
  const rc: ChrReconnect = { enabled };
  const timeout = r.uint('timeout');
  if (enabled) {
    if (timeout === undefined) throw xmlError(`${where} <reconnect>`, 'missing timeout for chardev with reconnect enabled');
    rc.timeout = timeout;
  } else if (timeout !== undefined) {
    throw xmlError(`${where} <reconnect>`, 'reconnect attribute \'timeout\' is not supported when reconnect is disabled');
  }
  return rc;
}

function formatReconnect(w: XmlWriter, rc: ChrReconnect | undefined): void {
  if (!rc) return;
  w.empty('reconnect', [['enabled', yn(rc.enabled)], ['timeout', rc.enabled ? rc.timeout : undefined]]);
}

/** Reads the source of a character device from the element that has `type` (serial, smartcard, backend, …). */
export function parseChrSource(r: ElemReader, typeStr: string | undefined, ctx: ParseContext, where: string): ChrSourceDef {
  const t = typeStr ?? 'null';
  if (!(CHR_TYPES as readonly string[]).includes(t)) throw xmlError(where, `unknown type presented to host for character device: ${t}`);
  const src: ChrSourceDef = { type: t as ChrType };
  const sources = r.children('source');
  let keptFrom: ElemReader | undefined;
  if (src.type === 'tcp' && sources.length > 1) throw xmlError(where, 'only one source element is allowed for TCP character device');
  for (const s of sources) {
    const sr = new ElemReader(s, `${where} <source>`);
    const mode = sr.str('mode');
    if (mode !== undefined && mode !== 'bind' && mode !== 'connect') throw xmlError(`${where} <source>`, `Unknown source mode '${mode}'`);
    switch (src.type) {
      case 'pty': case 'dev': case 'file': case 'pipe': {
        const p = sr.str('path');
        if (src.path === undefined && p !== undefined && !(src.type === 'pty' && ctx.inactive)) src.path = p;
        const app = sr.onOff('append');
        if (app !== undefined && src.type === 'file') src.append = app;
        const labels = parseDeviceSeclabels(sr, where);
        if (labels.length) src.seclabels = labels;
        sr.ignoreAttrs('mode', 'tty');
        break;
      }
      case 'unix': {
        const p = sr.str('path');
        if (src.path === undefined) {
          if (p !== undefined) src.path = p;
          src.listen = mode === 'bind';
        }
        const rc = sr.child('reconnect');
        if (rc) src.reconnect = parseReconnect(rc, where);
        const labels = parseDeviceSeclabels(sr, where);
        if (labels.length) src.seclabels = labels;
        break;
      }
      case 'tcp': {
        src.listen = mode === 'bind';
        const host = sr.str('host');
        if (host !== undefined) src.host = host;
        const service = sr.str('service');
        if (service !== undefined) src.service = service;
        const tls = sr.yesNo('tls');
        if (tls !== undefined) src.tls = tls;
        const rc = sr.child('reconnect');
        if (rc) src.reconnect = parseReconnect(rc, where);
        break;
      }
      case 'udp': {
        const host = sr.str('host');
        const service = sr.str('service');
        if (mode === 'bind' ? src.bindHost !== undefined || src.bindService !== undefined : src.connectHost !== undefined || src.connectService !== undefined) {
          throw xmlError(where, `only one source element with mode '${mode ?? 'connect'}' is allowed for UDP character device`);
        }
        if (mode === 'bind') {
          if (host !== undefined) src.bindHost = host;
          if (service !== undefined) src.bindService = service;
        } else {
          if (host !== undefined) src.connectHost = host;
          if (service !== undefined) src.connectService = service;
        }
        break;
      }
      case 'spiceport': case 'dbus': {
        const ch = sr.str('channel');
        if (ch !== undefined) src.channel = ch;
        break;
      }
      case 'nmdm': {
        const m = sr.str('master');
        if (m !== undefined) src.master = m;
        const sl = sr.str('slave');
        if (sl !== undefined) src.slave = sl;
        break;
      }
      case 'qemu-vdagent': {
        const cb = sr.child('clipboard');
        if (cb) {
          const v = new ElemReader(cb, `${where} <clipboard>`).yesNo('copypaste');
          if (v !== undefined) src.clipboardCopypaste = v;
        }
        const mouse = sr.child('mouse');
        if (mouse) {
          const m = new ElemReader(mouse, `${where} <mouse>`).enum('mode', ['server', 'client'] as const);
          if (m) src.mouseMode = m;
        }
        break;
      }
      default:
        sr.ignoreAttrs('mode', 'path', 'host', 'service');
        break;
    }
    if (!keptFrom) keptFrom = sr;
  }
  if (src.type === 'tcp') {
    const proto = r.child('protocol');
    if (proto) {
      const p = new ElemReader(proto, `${where} <protocol>`).enum('type', ['raw', 'telnet', 'telnets', 'tls'] as const);
      if (p) src.protocol = p;
    }
  } else r.ignoreChildren('protocol');
  const log = r.child('log');
  if (log) {
    const lr = new ElemReader(log, `${where} <log>`);
    const file = lr.str('file');
    if (file) {
      src.log = { file };
      const ap = lr.onOff('append');
      if (ap !== undefined) src.log.append = ap;
    }
  }
  const kept = keptFrom?.kept();
  if (kept) src.sourceKept = kept;
  return src;
}

/** Writes <source> (and <protocol>, <log>) of a character device. */
export function formatChrSource(w: XmlWriter, src: ChrSourceDef, ctx: FormatContext): void {
  const kept = src.sourceKept;
  switch (src.type) {
    case 'pty': case 'dev': case 'file': case 'pipe':
      if (src.type !== 'pty' || (src.path && !ctx.inactive)) {
        const a: AttrList = [['path', src.path]];
        if (src.type === 'file' && src.append !== undefined) a.push(['append', oo(src.append)]);
        writeEl(w, 'source', a, src.seclabels?.length ? (c) => formatDeviceSeclabels(c, src.seclabels) : undefined, kept);
      }
      break;
    case 'nmdm':
      writeEl(w, 'source', [['master', src.master], ['slave', src.slave]], undefined, kept);
      break;
    case 'udp':
      if (src.bindService !== undefined || src.bindHost !== undefined) {
        w.empty('source', [['mode', 'bind'], ['host', src.bindHost], ['service', src.bindService]]);
      }
      if (src.connectService !== undefined || src.connectHost !== undefined) {
        w.empty('source', [['mode', 'connect'], ['host', src.connectHost], ['service', src.connectService]]);
      }
      break;
    case 'tcp': {
      const a: AttrList = [['mode', src.listen ? 'bind' : 'connect'], ['host', src.host], ['service', src.service], ['tls', yn(src.tls)]];
      writeEl(w, 'source', a, src.reconnect ? (c) => formatReconnect(c, src.reconnect) : undefined, kept);
      w.empty('protocol', [['type', src.protocol ?? 'raw']]);
      break;
    }
    case 'unix':
      if (src.path) {
        writeEl(w, 'source', [['mode', src.listen ? 'bind' : 'connect'], ['path', src.path]], (c) => {
          formatDeviceSeclabels(c, src.seclabels);
          formatReconnect(c, src.reconnect);
        }, kept);
      }
      break;
    case 'spiceport': case 'dbus':
      writeEl(w, 'source', [['channel', src.channel]], undefined, kept);
      break;
    case 'qemu-vdagent':
      if (src.clipboardCopypaste !== undefined || src.mouseMode !== undefined) {
        w.open('source');
        if (src.clipboardCopypaste !== undefined) w.empty('clipboard', [['copypaste', yn(src.clipboardCopypaste)]]);
        if (src.mouseMode !== undefined) w.empty('mouse', [['mode', src.mouseMode]]);
        w.close('source');
      }
      break;
    default:
      break;
  }
  if (src.log) w.empty('log', [['file', src.log.file], ['append', oo(src.log.append)]]);
}

/** Checks libvirt does on a source once the whole device is known (virDomainChrSourceDefValidate). */
export function validateChrSource(src: ChrSourceDef, where: string, pathOptional = false): void {
  switch (src.type) {
    case 'file': case 'dev': case 'pipe':
      if (!src.path) throw xmlError(where, 'Missing source path attribute for char device');
      break;
    case 'nmdm':
      if (!src.master) throw xmlError(where, 'Missing master path attribute for nmdm device');
      if (!src.slave) throw xmlError(where, 'Missing slave path attribute for nmdm device');
      break;
    case 'tcp':
      if (!src.host) throw xmlError(where, 'Missing source host attribute for char device');
      if (!src.service) throw xmlError(where, 'Missing source service attribute for char device');
      if (src.listen && src.reconnect?.enabled) throw xmlError(where, 'chardev reconnect is possible only for connect mode');
      break;
    case 'udp':
      if (!src.connectService) throw xmlError(where, 'Missing source service attribute for char device');
      break;
    case 'unix':
      if (!src.path && !pathOptional) throw xmlError(where, 'Missing source path attribute for char device');
      if (src.listen && src.reconnect?.enabled) throw xmlError(where, 'chardev reconnect is possible only for connect mode');
      break;
    case 'spiceport':
      if (!src.channel) throw xmlError(where, 'Missing source channel attribute for char device');
      if (!/^[a-zA-Z0-9_.\-]*$/.test(src.channel)) throw xmlError(where, 'Invalid character in source channel for char device');
      break;
    default:
      break;
  }
}

export function chrSourceEqual(a: ChrSourceDef, b: ChrSourceDef): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'pty': case 'dev': case 'file': case 'pipe':
      return a.path === b.path && (a.type !== 'file' || a.append === b.append);
    case 'udp':
      return a.bindHost === b.bindHost && a.bindService === b.bindService && a.connectHost === b.connectHost && a.connectService === b.connectService;
    case 'tcp':
      return a.listen === b.listen && a.host === b.host && a.service === b.service && (a.protocol ?? 'raw') === (b.protocol ?? 'raw');
    case 'unix':
      return !!a.listen === !!b.listen && a.path === b.path;
    case 'spiceport': case 'dbus':
      return a.channel === b.channel;
    case 'nmdm':
      return a.master === b.master && a.slave === b.slave;
    default:
      return true;
  }
}

export const CHR_DEVICE_TYPES = ['parallel', 'serial', 'console', 'channel'] as const;
export type ChrDeviceType = (typeof CHR_DEVICE_TYPES)[number];

export const SERIAL_TARGET_TYPES = ['isa-serial', 'usb-serial', 'pci-serial', 'spapr-vio-serial', 'system-serial', 'sclp-serial', 'isa-debug'] as const;
export const SERIAL_TARGET_MODELS = ['isa-serial', 'usb-serial', 'pci-serial', 'spapr-vty', 'pl011', 'sclpconsole', 'sclplmconsole', '16550a', 'isa-debugcon'] as const;
export const CONSOLE_TARGET_TYPES = ['serial', 'xen', 'uml', 'virtio', 'lxc', 'openvz', 'sclp', 'sclplm'] as const;
export const CHANNEL_TARGET_TYPES = ['guestfwd', 'virtio', 'xen'] as const;

export interface ChrDef {
  deviceType: ChrDeviceType;
  source: ChrSourceDef;
  /** Target type ("isa-serial", "virtio", "serial", …); undefined = none given. */
  targetType?: string;
  /** Serial target model (<target><model name>). */
  targetModel?: string;
  /** Port for serial/parallel/console; -1 until assigned. */
  port: number;
  /** Channel name (virtio/xen). */
  name?: string;
  /** Channel state (live only). */
  state?: 'connected' | 'disconnected';
  /** guestfwd target. */
  address?: string;
  addressPort?: number;
  info: DeviceInfo;
  kept?: KeptXml;
  targetKept?: KeptXml;
}

export function parseChr(el: XmlElement, ctx: ParseContext): ChrDef {
  const deviceType = el.name as ChrDeviceType;
  const r = new ElemReader(el, `<${deviceType}>`);
  const where = `<${deviceType}>`;
  const def: ChrDef = { deviceType, source: { type: 'null' }, port: -1, info: {} };
  const type = r.str('type');
  r.ignoreAttrs('tty');
  const t = r.child('target');
  if (t) {
    const tr = new ElemReader(t, `${where} <target>`);
    const tt = tr.str('type');
    if (tt !== undefined) {
      const allowed: readonly string[] =
        deviceType === 'serial' ? SERIAL_TARGET_TYPES : deviceType === 'console' ? CONSOLE_TARGET_TYPES : deviceType === 'channel' ? CHANNEL_TARGET_TYPES : [];
      if (!allowed.includes(tt) && !(tt === 'none' && deviceType !== 'channel')) throw xmlError(where, `unknown target type '${tt}' specified for character device`);
      if (tt !== 'none') def.targetType = tt;
    }
    if (deviceType === 'channel') {
      if (!def.targetType) throw xmlError(where, 'character device target type must be specified');
      if (def.targetType === 'guestfwd') {
        const addr = tr.str('address');
        const port = tr.str('port');
        if (!addr) throw xmlError(where, 'guestfwd channel does not define a target address');
        if (port === undefined) throw xmlError(where, 'guestfwd channel does not define a target port');
        if (!/^[0-9]+$/.test(port) || Number(port) > 65535) throw xmlError(where, `Invalid port number: ${port}`);
        def.address = addr;
        def.addressPort = Number(port);
      } else {
        const name = tr.str('name');
        if (name !== undefined) def.name = name;
        const state = tr.enum('state', ['default', 'connected', 'disconnected'] as const);
        if (state && state !== 'default' && !ctx.inactive) def.state = state;
      }
    } else {
      const port = tr.str('port');
      if (port !== undefined) {
        if (!/^\s*[0-9]+\s*$/.test(port) || Number(port) > 0x7fffffff) throw xmlError(where, `Invalid port number: ${port}`);
        def.port = Number(port);
      }
      if (deviceType === 'serial') {
        const m = tr.child('model');
        if (m) {
          const name = m.attr('name');
          if (name !== undefined) {
            if (!(SERIAL_TARGET_MODELS as readonly string[]).includes(name)) throw xmlError(where, `Unknown 'name' value '${name}'`);
            def.targetModel = name;
          }
        }
      }
    }
    const tk = tr.kept();
    if (tk) def.targetKept = tk;
  } else if (deviceType === 'channel') {
    throw xmlError(where, 'character device target type must be specified');
  }
  def.source = parseChrSource(r, type, ctx, where);
  def.info = parseDeviceInfo(r, ctx);
  const kept = r.kept();
  if (kept) def.kept = kept;
  return def;
}

export function formatChr(w: XmlWriter, def: ChrDef, ctx: FormatContext): void {
  const tty = def.deviceType === 'console' && def.port === 0 && def.source.type === 'pty' && !ctx.inactive && def.source.path;
  writeEl(w, def.deviceType, [['type', def.source.type], ['tty', tty ? def.source.path : undefined]], (c) => {
    formatChrSource(c, def.source, ctx);
    switch (def.deviceType) {
      case 'channel': {
        const a: AttrList = [['type', def.targetType]];
        if (def.targetType === 'guestfwd') a.push(['address', def.address], ['port', def.addressPort]);
        else {
          a.push(['name', def.name]);
          if (def.targetType === 'virtio' && def.state && !ctx.inactive) a.push(['state', def.state]);
        }
        writeEl(c, 'target', a, undefined, def.targetKept, true);
        break;
      }
      case 'console':
        writeEl(c, 'target', [['type', def.targetType ?? 'none'], ['port', def.port]], undefined, def.targetKept, true);
        break;
      case 'serial':
        writeEl(c, 'target', [['type', def.targetType], ['port', def.port]], def.targetModel ? (t) => t.empty('model', [['name', def.targetModel]]) : undefined, def.targetKept, true);
        break;
      default:
        writeEl(c, 'target', [['port', def.port]], undefined, def.targetKept, true);
    }
    formatDeviceInfo(c, def.info, ctx);
  }, def.kept, true);
}
