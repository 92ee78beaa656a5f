/**
 * What libvirt's qemuProcessPrepareDomain does before building the
 * command line: addresses for a new start, aliases, memory alignment,
 * boot indexes, display ports, storage node names and secrets, chardev
 * descriptors.
 */
import {
  SPICE_CHANNELS as SPICE_CHANNEL_NAMES, VirtError, type ChrSourceDef, type DeviceInfo, type DiskDef, type DomainDef, type StorageSource,
} from '@virtkit/core';
import { assignQemuAddresses } from '../defaults/addresses.js';
import { fillFirmware, loadFirmwareDescriptors } from '../defaults/firmware.js';
import { assignDeviceAliases } from './alias.js';
import {
  authSecretAlias, copyOnReadNodeName, encryptionSecretAlias, prHelperAlias, sourceChain, sourceNodeNames, tlsKeySecretAlias, tlsObjectAlias,
} from './disk-nodes.js';
import { hostDrmRenderNode, isCdromDevice } from './host-probe.js';
import type { BuildState, SourcePriv } from './state.js';

function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}
function unsupported(msg: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', msg, { origin: 'qemu' });
}

/** Initial memory: total minus hot-pluggable modules (virDomainDefGetMemoryInitial). */
export function memoryInitial(def: DomainDef): number {
  const cells = def.cpu?.numa?.cells;
  if (cells && cells.length) return cells.reduce((a, c) => a + c.memory, 0);
  let hot = 0;
  for (const m of def.devices.memories) hot += m.size;
  return def.memory.total - hot;
}

export function hasMemoryHotplug(def: DomainDef): boolean {
  return !!def.memory.max && !!def.memory.slots;
}

const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** qemuDomainAlignMemorySizes for x86: 1 MiB for RAM, 2 MiB for modules. */
function alignMemorySizes(def: DomainDef): void {
  const align = 1024;
  let initial = 0;
  const cells = def.cpu?.numa?.cells ?? [];
  for (const c of cells) {
    c.memory = roundUp(c.memory, align);
    initial += c.memory;
  }
  if (initial === 0) initial = roundUp(memoryInitial(def), align);
  if (def.memory.max) def.memory.max = roundUp(def.memory.max, align);
  let hot = 0;
  for (const m of def.devices.memories) {
    m.size = roundUp(m.size, 2048);
    hot += m.size;
  }
  def.memory.total = initial + hot;
}

/** qemuProcessPrepareDeviceBootorder: <os><boot dev> becomes the first matching device's bootindex. */
function prepareBootorder(def: DomainDef, bootIndex: Map<DeviceInfo, number>): void {
  const d = def.devices;
  for (const disk of d.disks) if (disk.info.bootOrder) bootIndex.set(disk.info, disk.info.bootOrder);
  for (const n of d.interfaces) if (n.info.bootOrder) bootIndex.set(n.info, n.info.bootOrder);
  for (const h of d.hostdevs) if (h.info.bootOrder) bootIndex.set(h.info, h.info.bootOrder);
  const devs = def.os.bootDevs;
  if (!devs.length) return;
  let cd = 0;
  let fd = 0;
  let hd = 0;
  let net = 0;
  devs.forEach((b, i) => {
    if (b === 'cdrom') cd = i + 1;
    else if (b === 'fd') fd = i + 1;
    else if (b === 'hd') hd = i + 1;
    else if (b === 'network') net = i + 1;
  });
  for (const disk of d.disks) {
    if (disk.device === 'cdrom') {
      if (cd) bootIndex.set(disk.info, cd);
      cd = 0;
    } else if (disk.device === 'floppy') {
      if (fd) bootIndex.set(disk.info, fd);
      fd = 0;
    } else {
      if (hd) bootIndex.set(disk.info, hd);
      hd = 0;
    }
  }
  if (d.interfaces.length && net) {
    const n0 = d.interfaces[0]!;
    if (n0.type === 'hostdev') {
      const h = d.hostdevs.find((x) => x.mode === 'subsystem' && x.type === 'pci' && x.info === n0.info);
      if (h) bootIndex.set(h.info, net);
    } else bootIndex.set(n0.info, net);
  }
}

/** qemuProcessSetupGraphics: render nodes, listen addresses, then ports. */
function prepareGraphics(state: BuildState): void {
  const { def, cfg, opts, caps } = state;
  for (const g of def.devices.graphics) {
    // virDomainGraphicsNeedsAutoRenderNode: GL without a chosen DRM node gets the host's.
    const wantsNode = g.type === 'egl-headless' || ((g.type === 'spice' || g.type === 'dbus') && g.gl?.enable === true);
    if (wantsNode && !g.gl?.rendernode && (g.type !== 'spice' || caps.has('spice-rendernode'))) {
      const node = (opts.drmRenderNode ?? hostDrmRenderNode)();
      if (!node) throw new VirtError('INTERNAL_ERROR', 'no DRM render nodes available', { origin: 'qemu' });
      g.gl = { ...g.gl, rendernode: node };
    }
  }
  for (const g of def.devices.graphics) {
    if (g.type !== 'vnc' && g.type !== 'spice') continue;
    const kind = g.type;
    const useSocket = kind === 'vnc' ? cfg.vncAutoUnixSocket : cfg.spiceAutoUnixSocket;
    const listenAddr = kind === 'vnc' ? cfg.vncListen : cfg.spiceListen;
    if (!g.listens.length) g.listens.push({ type: 'address' });
    for (let i = 0; i < g.listens.length; i++) {
      const l = g.listens[i]!;
      if (l.type === 'address' && !l.address) {
        if (useSocket) g.listens[i] = { type: 'socket', socket: `${state.libDir}/${kind}.sock`, fromConfig: true };
        else if (listenAddr) {
          l.address = listenAddr;
          l.fromConfig = true;
        }
      } else if (l.type === 'socket' && !l.socket) {
        l.socket = `${state.libDir}/${kind}.sock`;
        l.autoGenerated = true;
      }
    }
  }
  for (const g of def.devices.graphics) {
    const l = g.listens[0];
    if (l && l.type !== 'address' && l.type !== 'network') continue;
    if (g.type === 'vnc') {
      if (g.autoport) g.port = opts.allocatePort ? opts.allocatePort('display') : 5900;
      if (g.websocket === -1) g.websocket = opts.allocatePort ? opts.allocatePort('websocket') : 5700;
    } else if (g.type === 'spice') {
      let needPort = false;
      let needTls = false;
      if (g.autoport) {
        for (const ch of SPICE_CHANNEL_NAMES) {
          const mode = g.channels?.[ch];
          if (mode === 'secure') needTls = true;
          else if (mode === 'insecure') needPort = true;
          else {
            if (cfg.spiceTLS) needTls = true;
            needPort = true;
          }
        }
      }
      if (needPort || g.port === -1) g.port = opts.allocatePort ? opts.allocatePort('display') : 5901;
      if (needTls || g.tlsPort === -1) g.tlsPort = opts.allocatePort ? opts.allocatePort('display') : 5902;
    }
  }
}

// ---------------------------------------------------------------- storage

function cachemodeOf(disk: DiskDef): string | undefined {
  const c = disk.driver.cache;
  if (!c && disk.shareable && !disk.readonly) return 'none';
  return c;
}

export function isEmptySource(src: StorageSource): boolean {
  if (src.type === 'network' || src.type === 'nvme' || src.type === 'vhostuser') return false;
  if (src.type === 'volume') return !src.pool;
  return !src.path && !src.fdgroup;
}

/**
 * virDomainDiskTranslateSourcePool: a `<disk type='volume'>` takes the
 * volume's path and type from the storage driver; iSCSI pools in direct
 * mode become iSCSI network disks.
 */
function translateVolume(state: BuildState, disk: DiskDef): void {
  const src = disk.src;
  if (src.type !== 'volume' || !src.pool || !src.volume) return;
  const what = `disk '${disk.dst}'`;
  const pool = state.opts.lookupPool?.(src.pool);
  if (!pool) throw new VirtError('NO_STORAGE_POOL', `${what}: storage pool '${src.pool}' not found`, { origin: 'qemu' });
  const vol = state.opts.lookupVolume?.(src.pool, src.volume);
  if (!vol) throw new VirtError('NO_STORAGE_VOL', `${what}: storage volume '${src.volume}' not found in pool '${src.pool}'`, { origin: 'qemu' });
  if (src.volumeMode && pool.type !== 'iscsi') {
    throw unsupported(`${what}: disk source mode is only valid when storage pool is of iscsi type`);
  }
  delete src.hosts;
  delete src.auth;
  switch (pool.type) {
    case 'dir': case 'fs': case 'netfs': case 'logical': case 'disk': case 'scsi': case 'zfs': case 'vstorage': {
      if (src.startupPolicy && vol.type !== 'file') throw unsupported(`${what}: 'startupPolicy' is only valid for 'file' type volume`);
      if (vol.type === 'file' || vol.type === 'ploop') src.type = 'file';
      else if (vol.type === 'dir') src.type = 'dir';
      else if (vol.type === 'block') src.type = 'block';
      else throw unsupported(`${what}: unexpected storage volume type '${vol.type}' for storage pool type '${pool.type}'`);
      src.path = vol.path;
      break;
    }
    case 'iscsi': {
      if (src.startupPolicy) throw unsupported(`${what}: 'startupPolicy' is only valid for 'file' type volume`);
      if (src.volumeMode !== 'direct') {
        src.volumeMode = 'host';
        src.type = 'block';
        src.path = vol.path;
        break;
      }
      src.type = 'network';
      src.protocol = 'iscsi';
      const pauth = pool.source.auth;
      if (pauth) {
        src.auth = { username: pauth.username, secret: { type: pauth.secretType ?? 'iscsi', ...pauth.secret } };
        if (pauth.type) src.auth.authType = pauth.type;
      }
      const host = pool.source.hosts[0];
      if (!host) throw internal(`${what}: iSCSI storage pool '${pool.name}' has no host`);
      const tokens = src.volume.split(':');
      if (tokens.length !== 4) throw unsupported(`${what}: unexpected iscsi volume name '${src.volume}'`);
      src.hosts = [{ name: host.name, port: host.port || 3260, transport: 'tcp' }];
      src.path = `${pool.source.devices[0]?.path ?? ''}/${tokens[3]}`;
      break;
    }
    default:
      throw unsupported(`${what}: using '${pool.type}' pools for backing 'volume' disks isn't yet supported`);
  }
  if (!src.format) src.format = 'raw';
}

function prepareSourceTls(state: BuildState, src: StorageSource, priv: SourcePriv): void {
  const { cfg } = state;
  if (src.type !== 'network') return;
  if (src.protocol === 'nbd') {
    const tls = src.tls ?? (cfg.nbdTLS ? true : undefined);
    if (!tls) return;
    priv.tlsAlias = tlsObjectAlias(priv.storageNode);
    priv.tlsCertdir = cfg.nbdTLSx509certdir;
    if (cfg.nbdTLSx509secretUUID) {
      priv.tlsKeySecret = state.secret(tlsKeySecretAlias(priv.tlsAlias), state.lookupSecret({ uuid: cfg.nbdTLSx509secretUUID }, 'tls'));
    }
  } else if (src.protocol === 'vxhs') {
    const tls = src.tls ?? (cfg.vxhsTLS ? true : undefined);
    if (!tls) return;
    priv.tlsAlias = tlsObjectAlias(priv.storageNode);
    priv.tlsCertdir = cfg.vxhsTLSx509certdir;
  }
}

function prepareSource(state: BuildState, disk: DiskDef | undefined, src: StorageSource, top: boolean): SourcePriv {
  const id = ++state.nodeIndex;
  // libvirt's src->id: the live XML shows it as the source's index, and hot-unplug names the nodes by it.
  src.index = id;
  const priv: SourcePriv = {
    id,
    ...sourceNodeNames(id, src),
    readonly: top ? !!disk?.readonly || disk?.device === 'cdrom' : true,
    shared: top ? !!disk?.shareable : false,
  };
  if (disk) {
    if (top && disk.driver.detectZeroes) priv.detectZeroes = disk.driver.detectZeroes;
    if (disk.driver.io) priv.iomode = disk.driver.io;
    const cache = cachemodeOf(disk);
    if (cache) priv.cachemode = cache;
    if (disk.driver.discard) priv.discard = disk.driver.discard;
    if (disk.device === 'floppy') priv.floppyimg = true;
    const res = src.reservations;
    if (top && res && res.enabled !== false) {
      priv.prManager = res.managed ? { alias: MANAGED_PR_ALIAS } : { alias: prHelperAlias(priv.storageNode), path: res.source?.path ?? '' };
    }
    if (top && disk.device === 'cdrom' && src.type === 'block' && src.format === 'raw' && src.path) {
      if ((state.opts.isCdrom ?? isCdromDevice)(src.path)) priv.hostcdrom = true;
    }
  }
  state.src.set(src, priv);
  // Secrets: LUKS keys of the format layer, then credentials of the protocol layer.
  const enc = src.encryption;
  if (enc && (enc.engine === 'librbd' || enc.format === 'luks' || enc.format === 'qcow')) {
    priv.encSecrets = enc.secrets.map((ref, i) => state.secret(encryptionSecretAlias(priv.formatNode, i), state.lookupSecret(ref, 'volume')));
  }
  if (src.auth && src.type === 'network') {
    const usage = src.protocol === 'rbd' ? 'ceph' : 'iscsi';
    priv.authSecret = state.secret(authSecretAlias(priv.storageNode), state.lookupSecret(src.auth.secret, usage), src.auth.username);
  }
  prepareSourceTls(state, src, priv);
  if (src.type === 'network' && src.protocol === 'gluster') priv.debugLevel = 4;
  if (src.fdgroup) {
    const fds = state.opts.fdGroups?.[src.fdgroup];
    if (!fds) throw new VirtError('INVALID_ARG', `file descriptor group '${src.fdgroup}' was not associated with the domain`, { origin: 'qemu' });
    const pass = state.newFdPass();
    fds.forEach((fd, i) => pass.fds.push({ fd, opaque: `${priv.storageNode}${i}` }));
    priv.fdpass = pass;
  }
  return priv;
}

/** qemuDomainPrepareDiskSource: the disk's volume, node names and secrets of its whole chain. */
export function prepareDiskStorage(state: BuildState, disk: DiskDef): void {
  translateVolume(state, disk);
  if (disk.src.type === 'vhostuser') return;
  if (disk.driver.copyOnRead === true) state.corNodes.set(disk.dst, copyOnReadNodeName(disk.dst));
  sourceChain(disk.src).forEach((src, idx) => prepareSource(state, disk, src, idx === 0));
}

function prepareStorage(state: BuildState): void {
  const disks = state.def.devices.disks;
  for (let i = disks.length - 1; i >= 0; i--) prepareDiskStorage(state, disks[i]!);
}

/** Writable descriptor groups: libvirt lets a single descriptor decide the access mode. */
export function markFdWritable(state: BuildState, writable: Map<string, boolean> | undefined): void {
  if (!writable) return;
  for (const [src, priv] of state.src) if (src.fdgroup && writable.get(src.fdgroup)) priv.fdWritable = true;
}

// ---------------------------------------------------------------- chardevs

function prepareChardev(state: BuildState, src: ChrSourceDef, devAlias: string, allowDirectFd = true): void {
  const priv = state.chrPriv(src);
  const fake = state.fakeFds;
  const { cfg } = state;
  if (src.type === 'tcp') {
    const tls = src.tls ?? (cfg.chardevTLS ? true : undefined);
    if (tls && cfg.chardevTLS) {
      priv.tlsCertPath = cfg.chardevTLSx509certdir;
      priv.tlsVerify = src.listen ? cfg.chardevTLSx509verify : true;
      if (cfg.chardevTLSx509secretUUID) {
        priv.tlsSecret = state.secret(`char${devAlias}-secret0`, state.lookupSecret({ uuid: cfg.chardevTLSx509secretUUID }, 'tls'));
      }
    }
  }
  if (!fake) return;
  if (src.type === 'file') {
    const p = state.newFdPass();
    p.fds.push({ fd: fake.chardevFile, opaque: `${devAlias}-source` });
    priv.sourceFd = p;
  } else if (src.type === 'unix' && src.listen && allowDirectFd) {
    priv.directFd = fake.chardevListen;
  }
  if (src.log) {
    const p = state.newFdPass();
    p.fds.push({ fd: fake.chardevLog, opaque: `${devAlias}-log` });
    priv.logFd = p;
  }
}

function prepareChardevs(state: BuildState): void {
  const d = state.def.devices;
  for (const c of d.serials) prepareChardev(state, c.source, c.info.alias ?? '');
  for (const c of d.parallels) prepareChardev(state, c.source, c.info.alias ?? '');
  for (const c of d.channels) prepareChardev(state, c.source, c.info.alias ?? '');
  d.consoles.forEach((c, i) => {
    if (i === 0 && c.targetType === 'serial' && d.serials.length) return;
    prepareChardev(state, c.source, c.info.alias ?? '');
  });
  for (const s of d.smartcards) if (s.passthrough) prepareChardev(state, s.passthrough, s.info.alias ?? '');
  for (const r of d.redirdevs) prepareChardev(state, r.source, r.info.alias ?? '');
  for (const r of d.rngs) if (r.chardev) prepareChardev(state, r.chardev, r.info.alias ?? '');
  for (const n of d.interfaces) if (n.type === 'vhostuser' && n.vhostuser) state.chrPriv(n.vhostuser).wait = true;
}

/** Unix virtio channels without a path get one in the channel directory (qemuDomainPrepareChannel). */
function prepareChannelPaths(state: BuildState): void {
  for (const c of state.def.devices.channels) {
    if (c.targetType !== 'virtio' || c.source.type !== 'unix' || c.source.path) continue;
    if (!c.name) continue;
    c.source.path = `${state.cfg.channelTargetDir}/domain-${state.shortName}/${c.name}`;
  }
}

/**
 * qemuFirmwareEnsureNVRAM: a read-only pflash loader that keeps state gets
 * a per-domain variable store in the driver's NVRAM directory.
 */
function ensureNvram(state: BuildState): void {
  const os = state.def.os;
  const l = os.loader;
  if (!l || l.type !== 'pflash' || l.readonly !== true || l.stateless === true) return;
  if (os.nvram?.path || os.nvram?.source) return;
  os.nvram = { ...os.nvram, path: `${state.cfg.nvramDir}/${state.def.name}_VARS.fd` };
  if (!os.nvram.format && l.format) os.nvram.format = l.format;
}

/** Alias of the per-domain managed qemu-pr-helper (qemuDomainGetManagedPRAlias). */
export const MANAGED_PR_ALIAS = 'pr-helper0';

/** virDomainDefHasManagedPR. */
export function hasManagedPR(def: DomainDef): boolean {
  return def.devices.disks.some((d) => d.src.reservations?.managed === true && d.src.reservations.enabled !== false);
}

export interface PreparedDomain {
  bootIndex: Map<DeviceInfo, number>;
}

/** qemuProcessPrepareDomain for a new start. */
export function prepareDomain(state: BuildState): PreparedDomain {
  const { def, caps } = state;
  if (def.os.firmware) fillFirmware(def, state.opts.firmwareDescriptors ?? loadFirmwareDescriptors(), state.cfg.nvramDir);
  else ensureNvram(state);
  assignQemuAddresses(def, caps, true);
  assignDeviceAliases(def);
  alignMemorySizes(def);
  const bootIndex = new Map<DeviceInfo, number>();
  prepareBootorder(def, bootIndex);
  prepareGraphics(state);
  prepareChannelPaths(state);
  prepareStorage(state);
  prepareChardevs(state);
  if (def.devices.vsock && def.devices.vsock.autoCid !== false && !def.devices.vsock.cid) {
    def.devices.vsock.cid = state.opts.vsockAutoCid ?? 3;
  }
  return { bootIndex };
}
