/**
 * A storage source (libvirt's virStorageSource): where a disk's (or NVRAM's,
 * or a backing image's) data lives — a file, block device, directory,
 * network export, storage-pool volume, NVMe namespace or vhost-user socket —
 * with its auth, encryption, reservations, slices and backing chain.
 */
import type { KeptXml } from '../../../xml/keep.js';
import type { XmlElement } from '../../../xml/tree.js';
import type { XmlWriter } from '../../../xml/write.js';
import { parseUuid } from '../../../xml/values.js';
import { ElemReader, xmlError } from '../reader.js';
import { hex, writeEl, yn, type AttrList } from '../writer.js';
import { formatDeviceSeclabels, parseDeviceSeclabels, type DeviceSeclabelDef } from '../security.js';
import type { FormatContext, ParseContext } from '../context.js';
import type { PciAddress } from './info.js';

export const STORAGE_TYPES = ['file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

export const NETWORK_PROTOCOLS = [
  'nbd', 'rbd', 'sheepdog', 'gluster', 'iscsi', 'http', 'https', 'ftp', 'ftps', 'tftp', 'ssh', 'vxhs', 'nfs',
] as const;

export interface StorageHost {
  name?: string;
  port?: number;
  transport?: 'tcp' | 'unix' | 'rdma';
  socket?: string;
}

export interface SecretRef {
  type?: string;
  uuid?: string;
  usage?: string;
}

export interface DiskAuthDef {
  username: string;
  /** `type` attribute (chap, ceph); absent for most disk auth. */
  authType?: string;
  secret: SecretRef;
}

export interface DiskEncryptionDef {
  format?: string;
  engine?: string;
  secrets: SecretRef[];
  cipher?: { name: string; size: number; mode?: string; hash?: string };
  ivgen?: { name: string; hash?: string };
  kept?: KeptXml;
}

export interface StorageReservations {
  enabled?: boolean;
  managed: boolean;
  source?: { type: string; path?: string; mode?: string };
}

export interface StorageSource {
  type: StorageType;
  /** file/dev/dir path, network export name, vhost-user socket path. */
  path?: string;
  /** `fdgroup` of a file passed in by descriptor. */
  fdgroup?: string;
  protocol?: string;
  /** Query string of an http(s) source. */
  query?: string;
  tls?: boolean;
  tlsHostname?: string;
  hosts?: StorageHost[];
  snapshot?: string;
  configFile?: string;
  initiatorIqn?: string;
  sslverify?: boolean;
  cookies?: Array<{ name: string; value: string }>;
  readahead?: number;
  timeout?: number;
  /** Storage-pool volume. */
  pool?: string;
  volume?: string;
  volumeMode?: 'host' | 'direct';
  /** NVMe namespace. */
  nvme?: { managed?: boolean; namespace: number; address?: PciAddress };
  /** vhost-user socket reconnect / NBD reconnect. */
  reconnect?: { enabled?: boolean; timeout?: number; delay?: number };
  /** Backing-chain index (`index` attribute), kept in live XML. */
  index?: number;
  startupPolicy?: 'mandatory' | 'requisite' | 'optional';
  slices?: Array<{ offset: number; size: number }>;
  seclabels?: DeviceSeclabelDef[];
  auth?: DiskAuthDef;
  encryption?: DiskEncryptionDef;
  reservations?: StorageReservations;
  /** Image format (disk <driver type>, backing <format type>). */
  format?: string;
  /** <metadata_cache><max_size> in bytes. */
  metadataCacheMaxSize?: number;
  /** Next image in the chain; `null` is an explicit end (`<backingStore/>`). */
  backingStore?: StorageSource | null;
  sourceKept?: KeptXml;
  backingKept?: KeptXml;
}

export function parseSecretRef(el: XmlElement, where: string): SecretRef {
  const r = new ElemReader(el, where);
  const s: SecretRef = {};
  const type = r.str('type');
  if (type !== undefined) s.type = type;
  const uuid = r.str('uuid');
  const usage = r.str('usage');
  if (uuid !== undefined && usage !== undefined) throw xmlError(where, "either secret uuid or usage expected");
  if (uuid !== undefined) s.uuid = parseUuid(uuid, `${where} uuid`);
  else if (usage !== undefined) s.usage = usage;
  else throw xmlError(where, "either secret uuid or usage expected");
  return s;
}

function secretAttrs(s: SecretRef): AttrList {
  return [['type', s.type], ['uuid', s.uuid], ['usage', s.uuid ? undefined : s.usage]];
}

export function parseAuth(el: XmlElement, where: string): DiskAuthDef {
  const r = new ElemReader(el, `${where} <auth>`);
  const username = r.str('username');
  if (!username) throw xmlError(`${where} <auth>`, "missing username for auth");
  const a: DiskAuthDef = { username, secret: {} };
  const t = r.str('type');
  if (t !== undefined) {
    if (t !== 'chap' && t !== 'ceph') throw xmlError(`${where} <auth>`, `unknown auth type '${t}'`);
    a.authType = t;
  }
  const sec = r.child('secret');
  if (!sec) throw xmlError(`${where} <auth>`, "Missing <secret> element in auth");
  a.secret = parseSecretRef(sec, `${where} <auth><secret>`);
  return a;
}

export function formatAuth(w: XmlWriter, a: DiskAuthDef): void {
  w.open('auth', [['type', a.authType], ['username', a.username]]);
  w.empty('secret', secretAttrs(a.secret));
  w.close('auth');
}

export function parseEncryption(el: XmlElement, where: string): DiskEncryptionDef {
  const r = new ElemReader(el, `${where} <encryption>`);
  const e: DiskEncryptionDef = { secrets: [] };
  const f = r.str('format');
  if (f !== undefined) {
    if (!['default', 'qcow', 'luks', 'luks2', 'luks-any'].includes(f)) throw xmlError(`${where} <encryption>`, `unknown volume encryption format type ${f}`);
    if (f !== 'default') e.format = f;
  }
  const eng = r.str('engine');
  if (eng !== undefined) {
    if (!['default', 'qemu', 'librbd'].includes(eng)) throw xmlError(`${where} <encryption>`, `unknown volume encryption engine type ${eng}`);
    if (eng !== 'default') e.engine = eng;
  }
  for (const s of r.children('secret')) {
    const ref = parseSecretRef(s, `${where} <encryption><secret>`);
    if (ref.type !== 'passphrase') throw xmlError(`${where} <encryption><secret>`, `unknown volume encryption secret type ${ref.type ?? ''}`);
    e.secrets.push(ref);
  }
  const c = r.child('cipher');
  if (c) {
    const cr = new ElemReader(c, `${where} <encryption><cipher>`);
    const name = cr.str('name');
    const size = cr.uint('size');
    if (!name) throw xmlError(`${where} <encryption><cipher>`, 'cipher info missing \'name\' attribute');
    if (size === undefined) throw xmlError(`${where} <encryption><cipher>`, 'cipher info missing \'size\' attribute');
    e.cipher = { name, size };
    const mode = cr.str('mode');
    if (mode !== undefined) e.cipher.mode = mode;
    const hash = cr.str('hash');
    if (hash !== undefined) e.cipher.hash = hash;
  }
  const iv = r.child('ivgen');
  if (iv) {
    const ir = new ElemReader(iv, `${where} <encryption><ivgen>`);
    const name = ir.str('name');
    if (!name) throw xmlError(`${where} <encryption><ivgen>`, "missing ivgen info name string");
    e.ivgen = { name };
    const hash = ir.str('hash');
    if (hash !== undefined) e.ivgen.hash = hash;
  }
  const kept = r.kept();
  if (kept) e.kept = kept;
  return e;
}

export function formatEncryption(w: XmlWriter, e: DiskEncryptionDef): void {
  writeEl(w, 'encryption', [['format', e.format ?? 'default'], ['engine', e.engine]], (c) => {
    for (const s of e.secrets) c.empty('secret', secretAttrs(s));
    if (e.cipher) c.empty('cipher', [['name', e.cipher.name], ['size', e.cipher.size], ['mode', e.cipher.mode], ['hash', e.cipher.hash]]);
    if (e.ivgen) c.empty('ivgen', [['name', e.ivgen.name], ['hash', e.ivgen.hash]]);
  }, e.kept, true);
}

export function parseReservations(el: XmlElement, where: string): StorageReservations {
  const r = new ElemReader(el, `${where} <reservations>`);
  const enabled = r.yesNo('enabled');
  const managed = r.yesNo('managed');
  const res: StorageReservations = { managed: managed ?? false };
  if (enabled !== undefined) res.enabled = enabled;
  if (managed === undefined && enabled !== false) throw xmlError(`${where} <reservations>`, "missing 'managed' attribute for <reservations/>");
  const src = r.child('source');
  if (src && !res.managed) {
    const sr = new ElemReader(src, `${where} <reservations><source>`);
    const type = sr.str('type');
    if (type !== 'unix') throw xmlError(`${where} <reservations><source>`, `unsupported connection type for <reservations/>: ${type ?? ''}`);
    const path = sr.str('path');
    if (!path) throw xmlError(`${where} <reservations><source>`, "missing path for <reservations/>");
    const mode = sr.str('mode');
    if (mode !== 'client') throw xmlError(`${where} <reservations><source>`, `unsupported connection mode for <reservations/>: ${mode ?? ''}`);
    res.source = { type, path, mode };
  } else if (!src && managed === false) {
    throw xmlError(`${where} <reservations>`, "missing connection type for <reservations/>");
  }
  return res;
}

function formatReservations(w: XmlWriter, res: StorageReservations, migratable: boolean): void {
  const attrs: AttrList = [['enabled', yn(res.enabled)], ['managed', yn(res.managed)]];
  if (res.managed || !res.source) {
    w.empty('reservations', attrs);
    return;
  }
  w.open('reservations', attrs);
  if (!(migratable && res.managed)) w.empty('source', [['type', res.source.type], ['path', res.source.path], ['mode', res.source.mode]]);
  w.close('reservations');
}

/**
 * Reads a <source> of the given storage type. `owner` is the element that
 * holds `type` (disk, backingStore, nvram) — some source settings live there.
 */
export function parseStorageSource(owner: XmlElement, typeStr: string, srcEl: XmlElement | undefined, ctx: ParseContext, where: string): StorageSource {
  if (!(STORAGE_TYPES as readonly string[]).includes(typeStr)) throw xmlError(where, `unknown disk type '${typeStr}'`);
  const src: StorageSource = { type: typeStr as StorageType };
  void owner;
  if (!srcEl) return src;
  const r = new ElemReader(srcEl, `${where} <source>`);
  switch (src.type) {
    case 'file': {
      const p = r.str('file');
      if (p !== undefined && p !== '') src.path = p;
      const fd = r.str('fdgroup');
      if (fd !== undefined) src.fdgroup = fd;
      break;
    }
    case 'block': {
      const p = r.str('dev');
      if (p !== undefined && p !== '') src.path = p;
      break;
    }
    case 'dir': {
      const p = r.str('dir');
      if (p !== undefined && p !== '') src.path = p;
      break;
    }
    case 'network': {
      const protocol = r.str('protocol');
      if (protocol === undefined) throw xmlError(`${where} <source>`, "missing network source protocol type");
      if (!(NETWORK_PROTOCOLS as readonly string[]).includes(protocol)) throw xmlError(`${where} <source>`, `unknown protocol type '${protocol}'`);
      src.protocol = protocol;
      const name = r.str('name');
      if (name === undefined && protocol !== 'nbd') throw xmlError(`${where} <source>`, `missing name for '${protocol}' protocol`);
      if (name !== undefined) src.path = name;
      const q = r.str('query');
      if (q !== undefined) {
        if (protocol !== 'http' && protocol !== 'https') throw xmlError(`${where} <source>`, "query is supported only with HTTP(S) protocols");
        src.query = q;
      }
      const tls = r.yesNo('tls');
      if (tls !== undefined) src.tls = tls;
      const th = r.str('tlsHostname');
      if (th !== undefined) src.tlsHostname = th;
      const hosts: StorageHost[] = [];
      for (const h of r.children('host')) {
        const hr = new ElemReader(h, `${where} <source><host>`);
        const host: StorageHost = {};
        const transport = hr.enum('transport', ['tcp', 'unix', 'rdma'] as const);
        if (transport) host.transport = transport;
        if (transport === 'unix') {
          const sock = hr.str('socket');
          if (!sock) throw xmlError(`${where} <source><host>`, "missing socket for unix transport");
          host.socket = sock;
        } else {
          const name = hr.str('name');
          if (name === undefined) throw xmlError(`${where} <source><host>`, "missing hostname for tcp transport");
          host.name = name;
          if (hr.has('socket')) throw xmlError(`${where} <source><host>`, `transport '${transport ?? 'tcp'}' does not support socket attribute`);
        }
        const port = hr.str('port');
        if (port !== undefined) {
          if (!/^[0-9]+$/.test(port) || Number(port) > 65535) throw xmlError(`${where} <source><host>`, `failed to parse port number '${port}'`);
          host.port = Number(port);
        }
        hosts.push(host);
      }
      if (hosts.length) src.hosts = hosts;
      const snap = r.child('snapshot');
      if (snap) {
        const n = snap.attr('name');
        if (n !== undefined) src.snapshot = n;
      }
      const cfg = r.child('config');
      if (cfg) {
        const f = cfg.attr('file');
        if (f !== undefined) src.configFile = f;
      }
      const ini = r.child('initiator');
      if (ini) {
        const iqn = ini.child('iqn')?.attr('name');
        if (iqn === undefined) throw xmlError(`${where} <source><initiator>`, "missing iqn name");
        src.initiatorIqn = iqn;
      }
      const ssl = r.child('ssl');
      if (ssl) {
        const v = new ElemReader(ssl, `${where} <source><ssl>`).yesNo('verify');
        if (v !== undefined) {
          if (!['https', 'ftps', 'http', 'ftp'].includes(protocol)) throw xmlError(`${where} <source><ssl>`, `ssl verification is not supported for '${protocol}' protocol`);
          src.sslverify = v;
        }
      }
      const cookies = r.child('cookies');
      if (cookies) {
        src.cookies = [];
        for (const c of cookies.elements('cookie')) {
          const name = c.attr('name');
          if (!name) throw xmlError(`${where} <source><cookies>`, 'missing cookie name');
          if (src.cookies.some((x) => x.name === name)) throw xmlError(`${where} <source><cookies>`, `duplicate cookie '${name}'`);
          src.cookies.push({ name, value: c.text() });
        }
      }
      const ra = r.child('readahead');
      if (ra) {
        const v = new ElemReader(ra, `${where} <source><readahead>`).ulong('size');
        if (v === undefined || v === 0) throw xmlError(`${where} <source><readahead>`, 'invalid readahead size');
        src.readahead = v;
      }
      const to = r.child('timeout');
      if (to) {
        const v = new ElemReader(to, `${where} <source><timeout>`).ulong('seconds');
        if (v === undefined || v === 0) throw xmlError(`${where} <source><timeout>`, 'invalid timeout');
        src.timeout = v;
      }
      const rc = r.child('reconnect');
      if (rc) {
        const d = new ElemReader(rc, `${where} <source><reconnect>`).uint('delay');
        if (d === undefined) throw xmlError(`${where} <source><reconnect>`, "missing 'delay' attribute");
        src.reconnect = { delay: d };
      }
      break;
    }
    case 'volume': {
      const pool = r.str('pool');
      const volume = r.str('volume');
      if (!pool || !volume) throw xmlError(`${where} <source>`, "'pool' and 'volume' attributes are required for a volume source");
      src.pool = pool;
      src.volume = volume;
      const mode = r.enum('mode', ['default', 'host', 'direct'] as const);
      if (mode && mode !== 'default') src.volumeMode = mode;
      break;
    }
    case 'nvme': {
      const t = r.str('type');
      if (t !== 'pci') throw xmlError(`${where} <source>`, `unsupported source type '${t ?? ''}'`);
      const ns = r.str('namespace');
      if (ns === undefined) throw xmlError(`${where} <source>`, "missing 'namespace' attribute to disk source");
      if (!/^[0-9]+$/.test(ns) || Number(ns) === 0) throw xmlError(`${where} <source>`, `malformed namespace '${ns}'`);
      src.nvme = { namespace: Number(ns) };
      const managed = r.yesNo('managed');
      if (managed !== undefined) src.nvme.managed = managed;
      const a = r.child('address');
      if (!a) throw xmlError(`${where} <source>`, 'NVMe disk source is missing address');
      const ar = new ElemReader(a, `${where} <source><address>`);
      const num = (n: string) => {
        const v = ar.str(n);
        if (v === undefined) return 0;
        const s = v.trim();
        return /^0x/i.test(s) ? parseInt(s.slice(2), 16) : Number(s);
      };
      src.nvme.address = { type: 'pci', domain: num('domain'), bus: num('bus'), slot: num('slot'), function: num('function') };
      ar.ignoreAttrs('type');
      break;
    }
    case 'vhostuser': {
      const t = r.str('type');
      if (t !== 'unix') throw xmlError(`${where} <source>`, "invalid source type for vhostuser disk");
      const p = r.str('path');
      if (!p) throw xmlError(`${where} <source>`, "missing 'path' for vhostuser disk");
      src.path = p;
      const rc = r.child('reconnect');
      if (rc) {
        const rr = new ElemReader(rc, `${where} <source><reconnect>`);
        const en = rr.yesNo('enabled');
        src.reconnect = {};
        if (en !== undefined) src.reconnect.enabled = en;
        const to = rr.uint('timeout');
        if (to !== undefined) src.reconnect.timeout = to;
      }
      break;
    }
  }
  const idx = r.str('index');
  if (idx !== undefined && !ctx.inactive) {
    if (!/^[0-9]+$/.test(idx)) throw xmlError(`${where} <source>`, `invalid source index '${idx}'`);
    src.index = Number(idx);
  }
  const sp = r.str('startupPolicy');
  if (sp !== undefined) {
    if (!['mandatory', 'requisite', 'optional'].includes(sp)) throw xmlError(`${where} <source>`, `unknown startupPolicy value '${sp}'`);
    src.startupPolicy = sp as StorageSource['startupPolicy'];
  }
  const slicesEl = r.child('slices');
  if (slicesEl) {
    const slices: Array<{ offset: number; size: number }> = [];
    for (const s of slicesEl.elements('slice')) {
      const sr = new ElemReader(s, `${where} <source><slices><slice>`);
      const type = sr.str('type');
      if (type !== 'storage') throw xmlError(`${where} <slice>`, `unknown slice type '${type ?? ''}'`);
      const offset = sr.ulong('offset');
      const size = sr.ulong('size');
      if (offset === undefined || size === undefined) throw xmlError(`${where} <slice>`, "missing offset or size of slice");
      slices.push({ offset, size });
    }
    if (slices.length) src.slices = slices;
  }
  const labels = parseDeviceSeclabels(r, `${where} <source>`);
  if (labels.length) src.seclabels = labels;
  const auth = r.child('auth');
  if (auth) src.auth = parseAuth(auth, `${where} <source>`);
  const enc = r.child('encryption');
  if (enc) src.encryption = parseEncryption(enc, `${where} <source>`);
  const res = r.child('reservations');
  if (res) src.reservations = parseReservations(res, `${where} <source>`);
  const kept = r.kept();
  if (kept) src.sourceKept = kept;
  return src;
}

/** The attributes of <source> in libvirt's order. */
export function sourceAttrs(src: StorageSource, ctx: FormatContext, attrIndex = true): AttrList {
  const a: AttrList = [];
  switch (src.type) {
    case 'file':
      a.push(['file', src.path], ['fdgroup', src.fdgroup]);
      break;
    case 'block':
      a.push(['dev', src.path]);
      break;
    case 'dir':
      a.push(['dir', src.path]);
      break;
    case 'network':
      a.push(['protocol', src.protocol], ['name', src.path], ['query', src.query], ['tls', yn(src.tls)], ['tlsHostname', src.tlsHostname]);
      break;
    case 'volume':
      a.push(['pool', src.pool], ['volume', src.volume], ['mode', src.volumeMode]);
      break;
    case 'nvme':
      a.push(['type', 'pci'], ['managed', yn(src.nvme?.managed)], ['namespace', src.nvme?.namespace]);
      break;
    case 'vhostuser':
      a.push(['type', 'unix'], ['path', src.path]);
      break;
  }
  if (src.startupPolicy) a.push(['startupPolicy', src.startupPolicy]);
  if (attrIndex && src.index && !ctx.inactive) a.push(['index', src.index]);
  return a;
}

/** The children of <source> in libvirt's order. */
export function formatStorageSourceChildren(w: XmlWriter, src: StorageSource, ctx: FormatContext, withAuthEnc: boolean): void {
  if (src.type === 'network') {
    for (const h of src.hosts ?? []) {
      w.empty('host', [['transport', h.transport && h.transport !== 'tcp' ? h.transport : undefined], ['name', h.name], ['port', h.port], ['socket', h.socket]]);
    }
    if (src.snapshot !== undefined) w.empty('snapshot', [['name', src.snapshot]]);
    if (src.configFile !== undefined) w.empty('config', [['file', src.configFile]]);
    if (src.initiatorIqn !== undefined) {
      w.open('initiator');
      w.empty('iqn', [['name', src.initiatorIqn]]);
      w.close('initiator');
    }
    if (src.sslverify !== undefined) w.empty('ssl', [['verify', yn(src.sslverify)]]);
    if (src.cookies && src.cookies.length) {
      w.open('cookies');
      for (const c of src.cookies) w.text('cookie', c.value, [['name', c.name]]);
      w.close('cookies');
    }
    if (src.readahead) w.empty('readahead', [['size', src.readahead]]);
    if (src.timeout) w.empty('timeout', [['seconds', src.timeout]]);
    if (src.reconnect?.delay !== undefined) w.empty('reconnect', [['delay', src.reconnect.delay]]);
  } else if (src.type === 'nvme' && src.nvme?.address) {
    const ad = src.nvme.address;
    w.empty('address', [['domain', hex(ad.domain, 4)], ['bus', hex(ad.bus, 2)], ['slot', hex(ad.slot, 2)], ['function', `0x${ad.function}`]]);
  } else if (src.type === 'vhostuser' && src.reconnect) {
    w.empty('reconnect', [['enabled', yn(src.reconnect.enabled)], ['timeout', src.reconnect.timeout]]);
  }
  if (src.slices && src.slices.length) {
    w.open('slices');
    for (const s of src.slices) w.empty('slice', [['type', 'storage'], ['offset', s.offset], ['size', s.size]]);
    w.close('slices');
  }
  formatDeviceSeclabels(w, src.seclabels);
  if (withAuthEnc) {
    if (src.auth) formatAuth(w, src.auth);
    if (src.encryption) formatEncryption(w, src.encryption);
  }
  if (src.reservations) formatReservations(w, src.reservations, ctx.migratable);
}

export function parseBackingStore(el: XmlElement, ctx: ParseContext, where: string, depth = 0): StorageSource | null {
  if (depth > 100) throw xmlError(where, 'backing chain is too deep');
  const r = new ElemReader(el, `${where} <backingStore>`);
  const type = r.str('type');
  if (type === undefined) {
    if (el.hasElementChildren() || Object.keys(el.attrs).length) {
      throw xmlError(`${where} <backingStore>`, "missing disk backing store type");
    }
    return null;
  }
  const formatEl = r.child('format');
  const srcEl = r.child('source');
  if (!srcEl) throw xmlError(`${where} <backingStore>`, "missing disk backing store source");
  const src = parseStorageSource(el, type, srcEl, ctx, `${where} <backingStore>`);
  if (formatEl) {
    const fr = new ElemReader(formatEl, `${where} <backingStore><format>`);
    const f = fr.str('type');
    if (f === undefined) throw xmlError(`${where} <backingStore>`, "missing backing store format");
    src.format = f;
    const mc = fr.child('metadata_cache');
    if (mc) src.metadataCacheMaxSize = parseMetadataCache(mc, `${where} <backingStore><format>`);
  }
  const idx = r.str('index');
  if (idx !== undefined && !ctx.inactive) {
    if (!/^[0-9]+$/.test(idx)) throw xmlError(`${where} <backingStore>`, `invalid backingStore index '${idx}'`);
    src.index = Number(idx);
  }
  const next = r.child('backingStore');
  if (next) src.backingStore = parseBackingStore(next, ctx, where, depth + 1);
  const kept = r.kept();
  if (kept) src.backingKept = kept;
  return src;
}

export function parseMetadataCache(el: XmlElement, where: string): number | undefined {
  const m = el.child('max_size');
  if (!m) return undefined;
  const unit = m.attr('unit');
  const text = m.text().trim();
  if (!/^[0-9]+$/.test(text)) throw xmlError(`${where} <metadata_cache>`, `invalid max_size '${text}'`);
  let scale = 1;
  if (unit !== undefined && unit !== '') {
    const u = unit.toLowerCase();
    const table: Record<string, number> = { b: 1, bytes: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1e6, g: 1024 ** 3, gib: 1024 ** 3, gb: 1e9 };
    const s = table[u];
    if (s === undefined) throw xmlError(`${where} <metadata_cache>`, `unknown unit '${unit}'`);
    scale = s;
  }
  return Number(text) * scale;
}

export function formatMetadataCache(w: XmlWriter, size: number | undefined): void {
  if (!size) return;
  w.open('metadata_cache');
  w.text('max_size', size, [['unit', 'bytes']]);
  w.close('metadata_cache');
}

export function formatBackingStore(w: XmlWriter, src: StorageSource, ctx: FormatContext): void {
  const b = src.backingStore;
  if (b === undefined) return;
  if (b === null) {
    w.empty('backingStore');
    return;
  }
  const attrs: AttrList = [['type', b.type]];
  if (b.index && !ctx.inactive) attrs.push(['index', b.index]);
  writeEl(w, 'backingStore', attrs, (c) => {
    if (b.format) {
      if (b.metadataCacheMaxSize) {
        c.open('format', [['type', b.format]]);
        formatMetadataCache(c, b.metadataCacheMaxSize);
        c.close('format');
      } else c.empty('format', [['type', b.format]]);
    }
    writeEl(c, 'source', sourceAttrs(b, ctx, false), (s) => formatStorageSourceChildren(s, b, ctx, true), b.sourceKept, true);
    formatBackingStore(c, b, ctx);
  }, b.backingKept, true);
}
