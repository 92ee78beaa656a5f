/**
 * -blockdev for storage sources (libvirt's qemu_block.c): a protocol
 * ("storage") node and a format node per image of a backing chain, plus
 * the secret/TLS objects and descriptor sets they use.
 */
import { VirtError, type StorageHost, type StorageSource } from '@virtkit/core';
import { props, addProps, nz, type JsonObject } from './json.js';
import { fdPassParts, type BackendPart } from './parts.js';
import { fdPassPath, type BuildState, type SecretInfo, type SourcePriv } from './state.js';

function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}

export function secretProps(s: SecretInfo): JsonObject {
  return props([['qom-type', 'secret'], ['id', s.alias], ['data', s.ciphertext], ['keyid', 'masterKey0'], ['iv', s.iv], ['format', 'base64']]);
}

export function tlsCredsProps(dir: string, listen: boolean, verify: boolean, alias: string, secretAlias?: string): JsonObject {
  return props([
    ['qom-type', 'tls-creds-x509'], ['id', alias], ['dir', dir], ['endpoint', listen ? 'server' : 'client'],
    ['verify-peer', listen ? verify : true], ['passwordid', secretAlias],
  ]);
}

/** qemuDomainDiskCachemodeFlags: [writeback, direct, noflush] or undefined for the default mode. */
export function cachemodeFlags(mode: string | undefined): { writeback: boolean; direct: boolean; noflush: boolean } | undefined {
  switch (mode) {
    case 'none': return { writeback: true, direct: true, noflush: false };
    case 'writethrough': return { writeback: false, direct: false, noflush: false };
    case 'writeback': return { writeback: true, direct: false, noflush: false };
    case 'directsync': return { writeback: false, direct: true, noflush: false };
    case 'unsafe': return { writeback: true, direct: false, noflush: true };
    default: return undefined;
  }
}

function cacheProps(priv: SourcePriv): JsonObject | undefined {
  const f = cachemodeFlags(priv.cachemode);
  return f ? { direct: f.direct, 'no-flush': f.noflush } : undefined;
}

/** virDomainDiskGetDetectZeroesMode. */
export function detectZeroesMode(discard: string | undefined, detect: string | undefined): string | undefined {
  if (detect === 'unmap' && discard !== 'unmap') return 'on';
  return detect === 'off' ? 'off' : detect;
}

function socketAddress(h: StorageHost): JsonObject {
  if (h.transport === 'unix') return { type: 'unix', path: h.socket ?? '' };
  if (h.transport === 'rdma') throw internal("transport protocol 'rdma' is not yet supported");
  return { type: 'inet', host: h.name ?? '', port: String(h.port ?? defaultPort('')) };
}

function inetSocketAddress(h: StorageHost, port: number): JsonObject {
  if (h.transport && h.transport !== 'tcp') throw internal('only TCP protocol can be converted to InetSocketAddress');
  return { host: h.name ?? '', port: String(h.port ?? port) };
}

/** Default ports libvirt fills in for network protocols (virStorageSourceNetworkDefaultPort). */
export function defaultPort(protocol: string): number {
  switch (protocol) {
    case 'http': return 80;
    case 'https': return 443;
    case 'ftp': return 21;
    case 'ftps': return 990;
    case 'tftp': return 69;
    case 'sheepdog': return 7000;
    case 'nbd': return 10809;
    case 'ssh': return 22;
    case 'iscsi': return 3260;
    case 'gluster': return 24007;
    case 'rbd': return 0;
    case 'vxhs': return 9999;
    default: return 0;
  }
}

function hostPort(src: StorageSource, h: StorageHost): number {
  return h.port ?? defaultPort(src.protocol ?? '');
}

function isIPv6(s: string): boolean {
  return s.includes(':');
}

function urlOf(src: StorageSource): string {
  const h = src.hosts?.[0];
  if (!h || (src.hosts?.length ?? 0) !== 1) throw internal(`protocol '${src.protocol}' accepts only one host`);
  let scheme = src.protocol ?? '';
  if (h.transport && h.transport !== 'tcp') scheme += `+${h.transport}`;
  const host = h.name ?? '';
  const port = h.port;
  let path = src.path ? (src.path.startsWith('/') ? src.path : `/${src.path}`) : '';
  path = path.replace(/ /g, '%20');
  const q = src.query ? `?${src.query}` : '';
  return `${scheme}://${isIPv6(host) ? `[${host}]` : host}${port ? `:${port}` : ''}${path}${q}`;
}

function networkProps(state: BuildState, src: StorageSource, priv: SourcePriv): { driver: string; props: JsonObject } {
  const p = src.protocol ?? '';
  switch (p) {
    case 'gluster': {
      const [volume, ...rest] = (src.path ?? '').replace(/^\//, '').split('/');
      const o = props([
        ['volume', volume ?? ''], ['path', rest.join('/')],
        ['server', (src.hosts ?? []).map((h): JsonObject => (h.transport === 'unix' ? { type: 'unix', path: h.socket ?? '' } : { type: 'inet', host: h.name ?? '', port: String(hostPort(src, h)) }))],
      ]);
      if (priv.debugLevel !== undefined) o.debug = priv.debugLevel;
      return { driver: 'gluster', props: o };
    }
    case 'vxhs': {
      const h = src.hosts?.[0];
      if (!h || src.hosts!.length !== 1) throw internal('VxHS protocol accepts only one host');
      return { driver: 'vxhs', props: props([['tls-creds', priv.tlsAlias], ['vdisk-id', src.path ?? ''], ['server', inetSocketAddress(h, hostPort(src, h))]]) };
    }
    case 'http':
    case 'https':
    case 'ftp':
    case 'ftps':
    case 'tftp': {
      const o = props([
        ['url', urlOf(src)], ['username', src.auth?.username], ['password-secret', src.auth ? priv.authSecret?.alias : undefined],
        ['sslverify', src.sslverify], ['cookie-secret', undefined], ['timeout', nz(src.timeout)], ['readahead', nz(src.readahead)],
      ]);
      return { driver: p, props: o };
    }
    case 'iscsi': {
      const full = src.path ?? '';
      const slash = full.indexOf('/');
      const target = slash >= 0 ? full.slice(0, slash) : full;
      const lun = slash >= 0 ? Number(full.slice(slash + 1)) : 0;
      const h = src.hosts?.[0] ?? {};
      const name = h.name ?? '';
      const portal = isIPv6(name) ? `[${name}]:${hostPort(src, h)}` : `${name}:${hostPort(src, h)}`;
      return {
        driver: 'iscsi',
        props: props([
          ['portal', portal], ['target', target], ['lun', lun], ['transport', 'tcp'], ['user', src.auth?.username],
          ['password-secret', src.auth ? priv.authSecret?.alias : undefined], ['initiator-name', src.initiatorIqn],
        ]),
      };
    }
    case 'nbd': {
      const h = src.hosts?.[0];
      if (!h || src.hosts!.length !== 1) throw internal('nbd protocol accepts only one host');
      const server: JsonObject = h.transport === 'unix' ? { type: 'unix', path: h.socket ?? '' } : { type: 'inet', host: h.name ?? '', port: String(hostPort(src, h)) };
      return {
        driver: 'nbd',
        props: props([['server', server], ['export', src.path], ['tls-creds', priv.tlsAlias], ['tls-hostname', priv.tlsAlias ? src.tlsHostname : undefined], ['reconnect-delay', nz(src.reconnect?.delay)]]),
      };
    }
    case 'rbd': {
      const [pool, ...rest] = (src.path ?? '').split('/');
      let image = rest.join('/');
      let volume = pool ?? '';
      if (!image) {
        image = volume;
        volume = '';
      }
      const servers = src.hosts && src.hosts.length ? src.hosts.map((h) => inetSocketAddress(h, hostPort(src, h))) : undefined;
      let encrypt: JsonObject | undefined;
      if (src.encryption?.engine === 'librbd') {
        const fmt = src.encryption.format === 'luks2' ? 'luks2' : src.encryption.format === 'luks-any' ? 'luks-any' : 'luks';
        const secrets = priv.encSecrets ?? [];
        for (let i = secrets.length; i > 0; i--) {
          const n: JsonObject = { format: fmt, 'key-secret': secrets[i - 1]!.alias };
          if (encrypt) n.parent = encrypt;
          encrypt = n;
        }
      }
      const auth = src.auth ? priv.authSecret : undefined;
      return {
        driver: 'rbd',
        props: props([
          ['pool', volume], ['image', image], ['snapshot', src.snapshot], ['conf', src.configFile], ['server', servers], ['encrypt', encrypt],
          ['user', auth?.username], ['auth-client-required', auth ? ['cephx', 'none'] : undefined], ['key-secret', auth?.alias],
        ]),
      };
    }
    case 'sheepdog': {
      const h = src.hosts?.[0];
      if (!h) throw internal('sheepdog protocol accepts only one host');
      return { driver: 'sheepdog', props: props([['server', socketAddress(h)], ['vdi', src.path ?? '']]) };
    }
    case 'ssh': {
      const h = src.hosts?.[0];
      if (!h) throw internal('ssh protocol accepts only one host');
      return { driver: 'ssh', props: props([['path', src.path ?? ''], ['server', inetSocketAddress(h, hostPort(src, h))], ['user', src.auth?.username]]) };
    }
    case 'nfs': {
      const h = src.hosts?.[0] ?? {};
      return { driver: 'nfs', props: props([['server', { host: h.name ?? '', type: 'inet' }], ['path', src.path]]) };
    }
    default:
      throw internal(`unsupported network protocol '${p}'`);
  }
}

/** qemuBlockStorageSourceGetBackendProps with the auto-read-only flag (or skip-unmap for SCSI hostdevs). */
export function backendProps(state: BuildState, src: StorageSource, priv: SourcePriv, opts: { autoReadOnly?: boolean; skipUnmap?: boolean } = { autoReadOnly: true }): JsonObject {
  let aro: boolean | undefined;
  let ro: boolean | undefined;
  if (opts.autoReadOnly) aro = true;
  else ro = priv.readonly;
  let driver: string | undefined;
  let fileprops: JsonObject;
  switch (src.type) {
    case 'block':
    case 'file': {
      if (src.type === 'block') driver = priv.hostcdrom ? 'host_cdrom' : 'host_device';
      else driver = 'file';
      let path = src.path ?? '';
      if (priv.fdpass) {
        path = fdPassPath(priv.fdpass);
        if (priv.fdpass.fds.length === 1) {
          aro = undefined;
          ro = priv.fdWritable ? false : priv.readonly;
        }
      }
      fileprops = props([['filename', path], ['aio', priv.iomode], ['pr-manager', priv.prManager?.alias]]);
      break;
    }
    case 'dir':
      fileprops = props([['driver', 'vvfat'], ['dir', src.path ?? ''], ['floppy', !!priv.floppyimg], ['rw', !priv.readonly]]);
      break;
    case 'nvme': {
      const a = src.nvme?.address;
      const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
      const dev = a ? `${h(a.domain, 4)}:${h(a.bus, 2)}:${h(a.slot, 2)}.${a.function.toString(16)}` : '';
      fileprops = props([['driver', 'nvme'], ['device', dev], ['namespace', src.nvme?.namespace ?? 0]]);
      break;
    }
    case 'network': {
      const n = networkProps(state, src, priv);
      driver = n.driver;
      fileprops = n.props;
      break;
    }
    default:
      throw internal(`unable to create blockdev props for storage type '${src.type}'`);
  }
  const out: JsonObject = driver ? { driver, ...fileprops } : fileprops;
  addProps(out, [['node-name', priv.storageNode], ['cache', cacheProps(priv)], ['read-only', ro], ['auto-read-only', aro]]);
  if (!opts.skipUnmap) out.discard = 'unmap';
  return out;
}

const BACKING_FORMATS = new Set(['cow', 'qcow', 'qcow2', 'qed', 'vmdk']);

/** qemuBlockStorageSourceGetFormatProps. */
export function formatProps(src: StorageSource, priv: SourcePriv, backing: StorageSource | null | undefined, backingPriv: SourcePriv | undefined): JsonObject {
  const fmt = src.format ?? 'raw';
  const dz = detectZeroesMode(priv.discard, priv.detectZeroes);
  const o = props([
    ['node-name', priv.formatNode], ['read-only', priv.readonly], ['discard', priv.discard], ['detect-zeroes', dz], ['cache', cacheProps(priv)],
  ]);
  const enc = src.encryption && src.encryption.engine !== 'librbd' ? src.encryption : undefined;
  switch (fmt) {
    case 'fat':
    case 'raw':
      if (enc && enc.format === 'luks') {
        addProps(o, [['driver', 'luks'], ['key-secret', priv.encSecrets?.[0]?.alias]]);
      } else {
        o.driver = 'raw';
        const slice = src.slices?.[0];
        if (slice && !priv.sliceNode) addProps(o, [['offset', slice.offset], ['size', slice.size]]);
      }
      break;
    case 'qcow2':
    case 'qcow': {
      let encrypt: JsonObject | undefined;
      if (enc && priv.encSecrets?.length) encrypt = { format: enc.format === 'qcow' ? 'aes' : 'luks', 'key-secret': priv.encSecrets[0]!.alias };
      addProps(o, [['driver', fmt], ['encrypt', encrypt]]);
      if (fmt === 'qcow2') addProps(o, [['cache-size', nz(src.metadataCacheMaxSize)]]);
      break;
    }
    case 'ploop': o.driver = 'parallels'; break;
    case 'vhd': o.driver = 'vhdx'; break;
    case 'bochs':
    case 'cloop':
    case 'dmg':
    case 'vdi':
    case 'vpc':
    case 'qed':
    case 'vmdk':
      o.driver = fmt;
      break;
    default:
      throw internal(`mishandled storage format '${fmt}'`);
  }
  o.file = priv.sliceNode ?? priv.storageNode;
  if (backing !== undefined && BACKING_FORMATS.has(fmt)) {
    if (backing && backingPriv) o.backing = backingPriv.formatNode;
    else o.backing = null;
  }
  return o;
}

function sliceProps(src: StorageSource, priv: SourcePriv): JsonObject {
  const s = src.slices![0]!;
  return props([
    ['driver', 'raw'], ['node-name', priv.sliceNode], ['offset', s.offset], ['size', s.size], ['file', priv.storageNode],
    ['auto-read-only', true], ['discard', 'unmap'], ['cache', cacheProps(priv)],
  ]);
}

/** Objects a source needs before its blockdevs (qemuBuildStorageSourceAttachPrepareCommon order). */
/** A pr-manager-helper object: the socket of a qemu-pr-helper daemon. */
export function prManagerProps(alias: string, path: string): JsonObject {
  return props([['qom-type', 'pr-manager-helper'], ['id', alias], ['path', path]]);
}

export function sourceDependencies(priv: SourcePriv): JsonObject[] {
  const out: JsonObject[] = [];
  const pr = priv.prManager;
  if (pr?.path) out.push(prManagerProps(pr.alias, pr.path));
  if (priv.authSecret) out.push(secretProps(priv.authSecret));
  for (const s of priv.encSecrets ?? []) out.push(secretProps(s));
  if (priv.tlsKeySecret) out.push(secretProps(priv.tlsKeySecret));
  if (priv.tlsAlias && priv.tlsCertdir) out.push(tlsCredsProps(priv.tlsCertdir, false, true, priv.tlsAlias, priv.tlsKeySecret?.alias));
  return out;
}

/** The -object and -blockdev options of one image (storage, slice, format). */
function sourceBlockdevParts(state: BuildState, src: StorageSource, backing: StorageSource | null | undefined): BackendPart[] {
  const priv = state.srcPriv(src);
  if (!priv) throw internal('storage source was not prepared');
  const backingPriv = backing ? state.srcPriv(backing) : undefined;
  const format = formatProps(src, priv, backing, backingPriv);
  const storage = backendProps(state, src, priv);
  const out: BackendPart[] = sourceDependencies(priv).map((props) => ({ option: '-object', props }));
  out.push({ option: '-blockdev', props: storage });
  if (priv.sliceNode) out.push({ option: '-blockdev', props: sliceProps(src, priv) });
  out.push({ option: '-blockdev', props: format });
  return out;
}

/** The whole chain, deepest image first (qemuBuildDiskSourceCommandLine). */
export function chainBlockdevParts(state: BuildState, top: StorageSource): BackendPart[] {
  const list: Array<{ src: StorageSource; backing: StorageSource | null | undefined }> = [];
  let n: StorageSource | null | undefined = top;
  while (n) {
    list.push({ src: n, backing: n.backingStore });
    n = n.backingStore;
  }
  // Descriptors of the whole chain go first, top image first.
  const out = list.flatMap(({ src }) => fdPassParts(state.srcPriv(src)?.fdpass));
  for (let i = list.length - 1; i >= 0; i--) out.push(...sourceBlockdevParts(state, list[i]!.src, list[i]!.backing));
  return out;
}
