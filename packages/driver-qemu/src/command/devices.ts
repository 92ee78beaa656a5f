/**
 * The devices a running guest can gain (disks, NICs, memory modules,
 * vCPUs), one at a time: the command line builds each of them here, and
 * hot-plug sends the same parts over QMP (QemuDeviceBuilder), so both
 * create the same QEMU objects.
 */
import {
  VirtError,
  type DiskDef, type DomainDef, type DomainInterfaceDef, type MemoryDeviceDef,
} from '@virtkit/core';
import type { QemuCapabilities } from '../caps/index.js';
import { defaultQemuDriverConfig } from '../defaults/config.js';
import { chardevParts } from './chardev.js';
import { addAddressProps, addRomProps, diskDeviceProps, virtioDevProps } from './device-props.js';
import { canOpenVhostNet } from './host-probe.js';
import { addProps, nonneg, nz, props, trueOnly, type JsonObject } from './json.js';
import type { QemuCommandOptions } from './options.js';
import { fdPassParts, type BackendPart, type DeviceParts } from './parts.js';
import { isEmptySource, prepareDiskStorage } from './prepare.js';
import { BuildState } from './state.js';
import { chainBlockdevParts } from './storage.js';
import { memObjectParts, memoryBackendProps, memoryPagesize } from './system.js';

function unsupported(msg: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', msg, { origin: 'qemu' });
}
function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}

// ---------------------------------------------------------------- disks

/** qemuBuildDiskCommandLine: the disk's chardev or block nodes, then its frontend. */
export function diskParts(state: BuildState, disk: DiskDef, bootindex: number | undefined): DeviceParts {
  let backends: BackendPart[] = [];
  let empty = false;
  if (disk.src.type === 'vhostuser') {
    const r = disk.src.reconnect;
    const src = { type: 'unix' as const, path: disk.src.path, ...(r?.enabled !== undefined ? { reconnect: { enabled: r.enabled, ...(r.timeout !== undefined ? { timeout: r.timeout } : {}) } } : {}) };
    backends = chardevParts(state, src, `chr-vu-${disk.info.alias ?? ''}`);
  } else if (isEmptySource(disk.src)) {
    empty = true;
  } else {
    backends = chainBlockdevParts(state, disk.src);
    const cor = state.corNodes.get(disk.dst);
    if (cor) {
      backends.push({ option: '-blockdev', props: props([['driver', 'copy-on-read'], ['node-name', cor], ['file', state.srcPriv(disk.src)?.formatNode ?? ''], ['discard', 'unmap']]) });
    }
  }
  return { backends, device: diskDeviceProps(state, disk, bootindex, empty) };
}

// ---------------------------------------------------------------- network interfaces

const VIRTIO_NIC_MODELS = new Set(['virtio', 'virtio-transitional', 'virtio-non-transitional']);

/** qemuBuildNicDevProps. */
function nicDeviceProps(state: BuildState, net: DomainInterfaceDef, bootindex: number | undefined): JsonObject {
  const alias = net.info.alias ?? '';
  let o: JsonObject;
  const model = net.model ?? '';
  if (VIRTIO_NIC_MODELS.has(model)) {
    const drv = net.driver;
    let tx: string | undefined;
    if (drv?.txmode === 'iothread') tx = 'bh';
    else if (drv?.txmode === 'timer') tx = 'timer';
    let mq: boolean | undefined;
    let vectors: number | undefined;
    if ((drv?.queues ?? 0) > 1) {
      mq = true;
      if (net.info.address?.type !== 'ccw') vectors = 2 * drv!.queues! + 2;
    }
    o = virtioDevProps('virtio-net', net.info, state.caps, model === 'virtio' ? undefined : model, drv?.virtio);
    const h = drv?.host ?? {};
    const g = drv?.guest ?? {};
    addProps(o, [
      ['tx', tx], ['ioeventfd', drv?.ioeventfd], ['event_idx', drv?.eventIdx], ['csum', h.csum], ['gso', h.gso], ['host_tso4', h.tso4],
      ['host_tso6', h.tso6], ['host_ecn', h.ecn], ['host_ufo', h.ufo], ['mrg_rxbuf', h.mrg_rxbuf], ['guest_csum', g.csum], ['guest_tso4', g.tso4],
      ['guest_tso6', g.tso6], ['guest_ecn', g.ecn], ['guest_ufo', g.ufo], ['mq', mq], ['vectors', vectors], ['rx_queue_size', nz(drv?.rxQueueSize)],
      ['tx_queue_size', nz(drv?.txQueueSize)], ['rss', drv?.rss], ['hash', drv?.rssHashReport], ['host_mtu', nz(net.mtu)],
      ['failover', net.teaming?.type === 'persistent' ? true : undefined],
    ]);
  } else o = props([['driver', model]]);
  addProps(o, [['netdev', `host${alias}`], ['id', alias], ['mac', net.mac], ['bootindex', nz(bootindex)]]);
  addAddressProps(o, state.def, net.info);
  addRomProps(o, net.info);
  return o;
}

/**
 * A tap backend: descriptors the driver opened (libvirt's way, and the
 * test harness's stand-ins), or without descriptor passing the tap the
 * driver created, opened by QEMU by name.
 */
function tapNetdev(state: BuildState, net: DomainInterfaceDef): JsonObject {
  const { def } = state;
  const queues = Math.max(1, net.driver?.queues ?? 1);
  const wantVhost = def.type === 'kvm' && net.driver?.name !== 'qemu' && VIRTIO_NIC_MODELS.has(net.model ?? '') && state.caps.has('vhost-net');
  if (state.fakeFds) {
    const taps: string[] = [];
    for (let i = 0; i < queues; i++) taps.push(String(state.nextTapFd++));
    const vhost: string[] = [];
    if (wantVhost) for (let i = 0; i < queues; i++) vhost.push(String(state.nextVhostFd++));
    return props([
      ['type', 'tap'], [taps.length > 1 ? 'fds' : 'fd', taps.join(':')], ['vhost', vhost.length ? true : undefined],
      [vhost.length > 1 ? 'vhostfds' : 'vhostfd', vhost.length ? vhost.join(':') : undefined], ['sndbuf', net.sndbuf],
    ]);
  }
  if (net.type === 'direct') throw unsupported(`interface ${net.mac} of domain '${def.name}': a macvtap ('direct') interface needs its device opened by the driver`);
  // A pretend start (domxml-to-native) names the taps a start would create.
  const ifname = net.ifname ?? (state.domainId < 0 ? `vnet${def.devices.interfaces.indexOf(net)}` : undefined);
  if (!ifname) throw internal(`interface ${net.mac} of domain '${def.name}' has no tap device (<target dev>)`);
  const vhost = wantVhost && (net.driver?.name === 'vhost' || (state.opts.vhostNetAvailable ?? canOpenVhostNet)());
  return props([
    ['type', 'tap'], ['ifname', ifname], ['script', 'no'], ['downscript', 'no'], ['queues', queues > 1 ? queues : undefined], ['vhost', trueOnly(vhost)],
    ['sndbuf', net.sndbuf],
  ]);
}

/** qemuBuildInterfaceCommandLine: the backend (-netdev, after what it needs), then the NIC. */
export function nicParts(state: BuildState, net: DomainInterfaceDef, bootindex: number | undefined): DeviceParts {
  const alias = net.info.alias ?? '';
  const backends: BackendPart[] = [];
  const ep = (a: string | undefined, p: number | undefined) => `${a ?? ''}:${p ?? 0}`;
  let netdev: JsonObject;
  switch (net.type) {
    case 'network':
    case 'bridge':
    case 'direct':
    case 'ethernet':
      netdev = tapNetdev(state, net);
      break;
    case 'client':
      netdev = props([['type', 'socket'], ['connect', ep(net.sourceAddress, net.sourcePort)]]);
      break;
    case 'server':
      netdev = props([['type', 'socket'], ['listen', ep(net.sourceAddress, net.sourcePort)]]);
      break;
    case 'mcast':
      netdev = props([['type', 'socket'], ['mcast', ep(net.sourceAddress, net.sourcePort)]]);
      break;
    case 'udp':
      netdev = props([['type', 'socket'], ['udp', ep(net.sourceAddress, net.sourcePort)], ['localaddr', ep(net.localAddress, net.localPort)]]);
      break;
    case 'user':
      if (net.backend?.type === 'passt') {
        netdev = props([
          ['type', 'stream'], ['addr', { type: 'unix', path: `${state.cfg.stateDir}/passt/${state.shortName}-${alias}.socket` }], ['server', false],
        ]);
      } else {
        netdev = props([['type', 'user']]);
        for (const ip of net.ips) {
          if (ip.address.includes(':')) addProps(netdev, [['ipv6-prefix', ip.address], ['ipv6-prefixlen', nz(ip.prefix)]]);
          else netdev.net = ip.prefix ? `${ip.address}/${ip.prefix}` : ip.address;
        }
      }
      break;
    case 'internal':
      netdev = props([['type', 'user']]);
      break;
    case 'vhostuser': {
      if (!net.vhostuser) throw internal('vhost-user interface without a socket');
      backends.push(...chardevParts(state, net.vhostuser, `char${alias}`));
      netdev = props([['type', 'vhost-user'], ['chardev', `char${alias}`]]);
      if ((net.driver?.queues ?? 0) > 1) netdev.queues = net.driver!.queues!;
      break;
    }
    case 'vdpa': {
      const fd = state.fakeFds?.vdpa;
      if (fd === undefined) throw unsupported('vDPA interfaces need the device opened by the driver');
      const p = state.newFdPass();
      p.fds.push({ fd, opaque: `${alias}-vdpa` });
      backends.push(...fdPassParts(p));
      netdev = props([['type', 'vhost-vdpa'], ['vhostdev', `/dev/fdset/${p.set}`]]);
      if ((net.driver?.queues ?? 0) > 1) netdev.queues = net.driver!.queues!;
      break;
    }
    default:
      throw unsupported(`network device type '${net.type}' is not supported by this hypervisor`);
  }
  netdev.id = `host${alias}`;
  backends.push({ option: '-netdev', props: netdev });
  return { backends, device: nicDeviceProps(state, net, bootindex) };
}

// ---------------------------------------------------------------- memory modules

const MEMORY_DEVICE_DRIVERS: Record<string, string> = { dimm: 'pc-dimm', nvdimm: 'nvdimm', 'virtio-pmem': 'virtio-pmem-pci', 'virtio-mem': 'virtio-mem-pci' };

/**
 * qemuBuildMemoryDeviceCommandLine: the backend object, then the device.
 * SGX EPC sections have no device (the machine takes them); `device` is
 * undefined for them.
 */
export function memoryDeviceParts(state: BuildState, m: MemoryDeviceDef): { backends: BackendPart[]; device?: JsonObject } {
  const { caps } = state;
  const alias = m.info.alias ?? '';
  const nvdimmPath = m.model === 'nvdimm' || m.model === 'virtio-pmem' ? m.path : undefined;
  const r = memoryBackendProps(state, {
    model: m.model, size: m.size, targetNode: m.targetNode ?? -1, alias: `mem${alias}`, pathName: alias, access: m.access, discard: m.discard,
    pagesize: m.pagesize, nodemask: m.nodemask, nvdimmPath, pmem: m.pmem, alignsize: m.alignsize,
  }, true, false);
  const backends = memObjectParts(state, r);
  if (m.model === 'sgx-epc') return { backends };
  let prealloc: boolean | undefined;
  if (m.model === 'virtio-mem' && caps.has('virtio-mem-pci.prealloc')) {
    prealloc = memoryPagesize(state, { model: m.model, pagesize: m.pagesize, targetNode: m.targetNode ?? -1 }).prealloc;
  }
  const o = props([
    ['driver', MEMORY_DEVICE_DRIVERS[m.model]!], ['node', nonneg(m.targetNode)], ['label-size', nz((m.labelSize ?? 0) * 1024)],
    ['block-size', nz((m.blockSize ?? 0) * 1024)], ['requested-size', nz((m.requestedSize ?? 0) * 1024)], ['uuid', m.model === 'nvdimm' ? m.uuid : undefined],
    ['unarmed', m.model === 'nvdimm' && m.readonly ? true : undefined], ['memdev', `mem${alias}`], ['prealloc', trueOnly(prealloc)],
    ['id', alias],
  ]);
  return { backends, device: addAddressProps(o, state.def, m.info) };
}

// ---------------------------------------------------------------- vCPUs

/** A hot-pluggable CPU entity as QEMU lists it (query-hotpluggable-cpus). */
export interface HotpluggableCpuEntity {
  type: string;
  props: Record<string, number | undefined>;
}

/** qemuBuildHotpluggableCPUProps: the entity's properties with libvirt's driver and id (`vcpuN`) first. */
export function hotpluggableCpuProps(cpu: HotpluggableCpuEntity, vcpuId: number): JsonObject {
  return props([['driver', cpu.type], ['id', `vcpu${vcpuId}`], ...Object.entries(cpu.props)]);
}

// ---------------------------------------------------------------- hot-plug

/**
 * The parts of one device added to a running domain, as its start would
 * have built them. `def` is the live definition that already holds the
 * device, with aliases and addresses assigned; `firstNodeIndex` is the
 * first free N of the `libvirt-N-…` block node names.
 */
export class QemuDeviceBuilder {
  private readonly state: BuildState;

  constructor(def: DomainDef, caps: QemuCapabilities, opts: QemuCommandOptions & { firstNodeIndex?: number } = {}) {
    this.state = new BuildState(def, caps, opts.config ?? defaultQemuDriverConfig(), opts);
    this.state.nodeIndex = (opts.firstNodeIndex ?? 1) - 1;
  }

  disk(disk: DiskDef): DeviceParts {
    prepareDiskStorage(this.state, disk);
    return diskParts(this.state, disk, disk.info.bootOrder);
  }

  nic(net: DomainInterfaceDef): DeviceParts {
    return nicParts(this.state, net, net.info.bootOrder);
  }

  memory(mem: MemoryDeviceDef): DeviceParts {
    const p = memoryDeviceParts(this.state, mem);
    if (!p.device) throw unsupported(`memory model '${mem.model}' cannot be hot-plugged`);
    return { backends: p.backends, device: p.device };
  }
}
