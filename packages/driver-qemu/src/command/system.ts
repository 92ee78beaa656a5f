/**
 * Machine-level options: -name, -machine, -accel, -cpu, -m and memory
 * backends, -smp, iothreads, -numa, -smbios, -rtc, power management and
 * -boot (qemu_command.c).
 */
import { VirtError, formatIdList, type DomainDef, type XmlElement } from '@virtkit/core';
import { isPSeries, isQ35, isX86 } from '../defaults/machine.js';
import { accelOf } from '../defaults/postparse.js';
import type { QemuCommand } from './argv.js';
import { escapeComma, nonneg, nz, props, toJson, type JsonObject } from './json.js';
import type { BackendPart } from './parts.js';
import { hasMemoryHotplug, memoryInitial } from './prepare.js';
import type { BuildState } from './state.js';

function unsupported(msg: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', msg, { origin: 'qemu' });
}
function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}

export function buildName(cmd: QemuCommand, state: BuildState): void {
  let s = `guest=${escapeComma(state.def.name)}`;
  if (state.cfg.setProcessName) s += `,process=qemu:${state.def.name}`;
  s += ',debug-threads=on';
  cmd.arg('-name', s);
}

function defaultRamId(state: BuildState): string | undefined {
  const m = state.caps.machines(accelOf(state.def)).find((x) => x.name === state.def.os.machine);
  return m?.defaultRamId;
}

function numaCells(def: DomainDef) {
  return def.cpu?.numa?.cells ?? [];
}

export function buildMachine(cmd: QemuCommand, state: BuildState, pflash: { pflash0?: string; pflash1?: string }): void {
  const { def, caps, cfg } = state;
  const f = def.features;
  let s = `${def.os.machine ?? ''},usb=off`;
  if (f?.states.vmport !== undefined) s += `,vmport=${f.states.vmport ? 'on' : 'off'}`;
  if (f?.states.smm !== undefined) s += `,smm=${f.states.smm ? 'on' : 'off'}`;
  if (f?.states.gic) s += f.gicVersion && f.gicVersion !== '2' ? `,gic-version=${f.gicVersion}` : '';
  if (f?.ioapicDriver === 'qemu') s += ',kernel_irqchip=split';
  else if (f?.ioapicDriver === 'kvm') s += ',kernel_irqchip=on';
  if (f?.states.hpt && f.hpt) {
    if (f.hpt.resizing) s += `,resize-hpt=${f.hpt.resizing}`;
    if (f.hpt.maxpagesize) s += `,cap-hpt-max-page-size=${f.hpt.maxpagesize}k`;
  }
  if (f?.states.htm !== undefined) s += `,cap-htm=${f.states.htm ? 'on' : 'off'}`;
  if (f?.states['nested-hv'] !== undefined) s += `,cap-nested-hv=${f.states['nested-hv'] ? 'on' : 'off'}`;
  if (f?.states['ccf-assist'] !== undefined) s += `,cap-ccf-assist=${f.states['ccf-assist'] ? 'on' : 'off'}`;
  if (f?.cfpc) s += `,cap-cfpc=${f.cfpc}`;
  if (f?.sbbc) s += `,cap-sbbc=${f.sbbc}`;
  if (f?.ibs) s += `,cap-ibs=${f.ibs}`;
  if (def.devices.iommu?.model === 'smmuv3') s += ',iommu=smmuv3';
  const dump = def.memory.dumpCore ?? cfg.dumpGuestCore;
  s += `,dump-guest-core=${dump ? 'on' : 'off'}`;
  if (def.memoryBacking?.nosharepages) s += ',mem-merge=off';
  if (def.devices.memories.some((m) => m.model === 'nvdimm')) s += ',nvdimm=on';
  if (numaCells(def).length === 0) {
    const ramId = defaultRamId(state);
    if (ramId) s += `,memory-backend=${ramId}`;
  }
  if (def.cpu?.model && def.cpu.mode === 'host-model' && isPSeries(def)) s += `,max-cpu-compat=${def.cpu.model}`;
  if (def.launchSecurity) s += caps.has('confidential-guest-support') || def.launchSecurity.type !== 'sev' ? ',confidential-guest-support=lsec0' : ',memory-encryption=lsec0';
  if (pflash.pflash0) s += `,pflash0=${pflash.pflash0}`;
  if (pflash.pflash1) s += `,pflash1=${pflash.pflash1}`;
  if (def.cpu?.numa?.interconnects?.length || numaCells(def).some((c) => c.caches?.length)) s += ',hmat=on';
  if (def.os.bios?.useserial) s += ',graphics=off';
  for (const t of def.clock.timers) {
    if (t.name === 'hpet' && caps.has('machine-hpet') && t.present !== undefined) s += `,hpet=${t.present ? 'on' : 'off'}`;
  }
  const pcspk = def.devices.sounds.find((x) => x.model === 'pcspk');
  if (pcspk) s += `,pcspk-audiodev=audio${pcspk.audioId ?? 1}`;
  cmd.arg('-machine', s);
}

export function buildAccel(cmd: QemuCommand, def: DomainDef): void {
  let s: string;
  if (def.type === 'kvm') {
    s = 'kvm';
    if (def.features?.kvm?.['dirty-ring']) s += `,dirty-ring-size=${def.features.kvmDirtyRingSize ?? 0}`;
  } else if (def.type === 'hvf') s = 'hvf';
  else {
    s = 'tcg';
    if (def.features?.states.tcg && def.features.tcgTbCache) s += `,tb-size=${def.features.tcgTbCache >> 10}`;
  }
  cmd.arg('-accel', s);
}

const CPU_FEATURE_QEMU: Record<string, string> = {
  cmp_legacy: 'cmp-legacy', ds_cpl: 'ds-cpl', fxsr_opt: 'fxsr-opt', kvm_pv_eoi: 'kvm-pv-eoi', kvm_pv_unhalt: 'kvm-pv-unhalt',
  lahf_lm: 'lahf-lm', nodeid_msr: 'nodeid-msr', pclmuldq: 'pclmulqdq', perfctr_core: 'perfctr-core', perfctr_nb: 'perfctr-nb',
  tsc_adjust: 'tsc-adjust',
};

const HYPERV_ORDER = ['relaxed', 'vapic', 'spinlocks', 'vpindex', 'runtime', 'synic', 'stimer', 'reset', 'vendor_id', 'frequencies', 'reenlightenment', 'tlbflush', 'ipi', 'evmcs', 'avic'] as const;

export function buildCpu(cmd: QemuCommand, state: BuildState): void {
  const { def, caps } = state;
  const cpu = def.cpu;
  let model = '';
  if (cpu && (cpu.mode !== 'custom' || cpu.model)) {
    switch (cpu.mode) {
      case 'host-passthrough':
      case 'maximum':
        model = cpu.mode === 'maximum' ? 'max' : 'host';
        if (cpu.migratable !== undefined && caps.has('cpu.migratable')) model += `,migratable=${cpu.migratable ? 'on' : 'off'}`;
        break;
      case 'host-model':
        if (def.os.arch === 'ppc64' || def.os.arch === 'ppc64le') model = 'host';
        else throw internal(`unexpected host-model CPU for ${def.os.arch ?? ''} architecture`);
        break;
      default:
        model = cpu.model ?? '';
    }
    if (cpu.vendorId) model += `,vendor=${cpu.vendorId}`;
    for (const f of cpu.features) {
      const name = CPU_FEATURE_QEMU[f.name] ?? f.name;
      if (f.policy === 'force' || f.policy === 'require') model += `,${name}=on`;
      else if (f.policy === 'disable' || f.policy === 'forbid') model += `,${name}=off`;
    }
  } else if (def.os.arch === 'i686' && (def.devices.emulator ?? '').includes('x86_64')) {
    model = 'qemu32';
  }
  let flags = '';
  for (const t of def.clock.timers) {
    if (t.name === 'kvmclock' && t.present !== undefined) flags += `,kvmclock=${t.present ? 'on' : 'off'}`;
    else if (t.name === 'hypervclock' && t.present) flags += ',hv-time=on';
    else if (t.name === 'tsc' && t.frequency) flags += `,tsc-frequency=${t.frequency}`;
    else if (t.name === 'armvtimer') {
      if (t.tickpolicy === 'delay') flags += ',kvm-no-adjvtime=off';
      else if (t.tickpolicy === 'discard') flags += ',kvm-no-adjvtime=on';
    }
  }
  const fe = def.features;
  if (fe?.apicEoi !== undefined) flags += `,kvm-pv-eoi=${fe.apicEoi ? 'on' : 'off'}`;
  if (fe?.states.pvspinlock !== undefined) flags += `,kvm-pv-unhalt=${fe.states.pvspinlock ? 'on' : 'off'}`;
  if (fe?.hyperv) {
    const hv = fe.hyperv;
    if (hv.mode === 'passthrough') flags += ',hv-passthrough=on';
    for (const name of HYPERV_ORDER) {
      if (hv.features[name] !== true) continue;
      if (name === 'spinlocks') flags += `,hv-spinlocks=0x${(hv.spinlockRetries ?? 0).toString(16)}`;
      else if (name === 'vendor_id') flags += `,hv-vendor-id=${hv.vendorId ?? ''}`;
      else {
        flags += `,hv-${name}=on`;
        if (name === 'stimer' && hv.stimerDirect) flags += ',hv-stimer-direct=on';
      }
    }
  }
  if (def.devices.panics.some((p) => p.model === 'hyperv')) flags += ',hv-crash';
  if (fe?.states.kvm && fe.kvm) {
    if (fe.kvm.hidden) flags += ',kvm=off';
    if (fe.kvm['hint-dedicated']) flags += ',kvm-hint-dedicated=on';
    if (fe.kvm['poll-control']) flags += ',kvm-poll-control=on';
    if (fe.kvm['pv-ipi'] === false) flags += ',kvm-pv-ipi=off';
  }
  if (fe?.states.pmu !== undefined && def.os.arch !== 'ppc64' && def.os.arch !== 'ppc64le') flags += `,pmu=${fe.states.pmu ? 'on' : 'off'}`;
  if (cpu?.cache) {
    let hostOff = false;
    let l3Off = false;
    if (cpu.cache.mode === 'emulate') {
      flags += ',l3-cache=on';
      hostOff = true;
    } else if (cpu.cache.mode === 'passthrough') {
      flags += ',host-cache-info=on';
      l3Off = true;
    } else if (cpu.cache.mode === 'disable') hostOff = l3Off = true;
    if (hostOff && (cpu.mode === 'host-passthrough' || cpu.mode === 'maximum')) flags += ',host-cache-info=off';
    if (l3Off) flags += ',l3-cache=off';
  }
  if (cpu?.maxphysaddr) {
    const a = cpu.maxphysaddr;
    if (a.mode === 'passthrough') {
      flags += ',host-phys-bits=on';
      if (a.limit) flags += `,host-phys-bits-limit=${a.limit}`;
    } else if (a.mode === 'emulate') flags += a.bits ? `,phys-bits=${a.bits}` : ',host-phys-bits=off';
  }
  if (flags && !model) {
    if (def.os.arch === 'i686') model = 'qemu32';
    else if (def.os.arch === 'x86_64') model = 'qemu64';
    else throw unsupported(`CPU flags requested but can't determine default CPU for arch ${def.os.arch ?? ''}`);
  }
  if (model) cmd.arg('-cpu', model + flags);
}

// ---------------------------------------------------------------- memory

function hugepagePath(state: BuildState, pageSizeKiB: number): string {
  const mounts = state.cfg.hugetlbfs;
  const m = mounts.find((x) => x.size === pageSizeKiB);
  if (!m) throw internal(`Unable to find any usable hugetlbfs mount for ${pageSizeKiB} KiB`);
  return `${m.mnt}/libvirt/qemu/${state.shortName}`;
}

function defaultHugepageSize(state: BuildState): number {
  const mounts = state.cfg.hugetlbfs;
  if (!mounts.length) throw internal('hugetlbfs filesystem is not mounted or disabled by administrator config');
  return (mounts.find((m) => m.default) ?? mounts[0]!).size;
}

interface PagesizeInfo {
  pagesize: number;
  needHugepage: boolean;
  useHugepage: boolean;
  prealloc: boolean;
}

/** qemuBuildMemoryGetPagesize. */
export function memoryPagesize(state: BuildState, mem: { model?: string; pagesize?: number; targetNode: number; nvdimmPath?: string; pmem?: boolean }): PagesizeInfo {
  const { def } = state;
  const systemPage = state.opts.hostPageSizeKiB ?? state.cfg.hostPageSizeKiB;
  let pagesize = mem.pagesize ?? 0;
  let needHugepage = !!pagesize;
  let useHugepage = !!pagesize;
  if (pagesize === 0) {
    const given = def.memoryBacking?.hugepages;
    // A bare <hugepages/> is one default-size page entry for all nodes.
    const pages = given && given.length === 0 ? [{ size: 0 }] : given ?? [];
    let master: { size: number } | undefined;
    let found: { size: number } | undefined;
    for (const hp of pages as Array<{ size: number; nodeset?: number[] }>) {
      if (!hp.nodeset) {
        master = hp;
        continue;
      }
      if (mem.targetNode < 0) continue;
      if (hp.nodeset.includes(mem.targetNode)) {
        found = hp;
        needHugepage = true;
        break;
      }
    }
    const hp = found ?? master;
    if (hp) {
      pagesize = hp.size;
      useHugepage = true;
    }
  }
  if (pagesize === systemPage) {
    pagesize = 0;
    needHugepage = false;
    useHugepage = false;
  } else if (useHugepage && pagesize === 0) pagesize = defaultHugepageSize(state);
  let prealloc = def.memoryBacking?.allocation?.mode === 'immediate';
  if (mem.nvdimmPath) {
    if (mem.model === 'nvdimm' && !mem.pmem) prealloc = true;
  } else if (useHugepage) prealloc = true;
  return { pagesize, needHugepage, useHugepage, prealloc };
}

interface BackendMem {
  model?: string;
  size: number;
  targetNode: number;
  alias: string;
  /** Name of the backing file under the memory backing dir (the device alias for memory modules). */
  pathName?: string;
  access?: 'shared' | 'private';
  discard?: boolean;
  pagesize?: number;
  nodemask?: number[];
  nvdimmPath?: string;
  pmem?: boolean;
  alignsize?: number;
}

function numatuneNodeset(def: DomainDef, cell: number): { nodeset?: number[]; mode: string } {
  const nt = def.numatune;
  const memnode = cell >= 0 ? nt?.memnodes.find((m) => m.cellid === cell) : undefined;
  if (memnode) return { nodeset: memnode.nodeset, mode: memnode.mode ?? 'strict' };
  const m = nt?.memory;
  if (m && m.placement !== 'auto' && m.nodeset) return { nodeset: m.nodeset, mode: m.mode };
  return { mode: m?.mode ?? 'strict' };
}

const NUMA_POLICY: Record<string, string> = { strict: 'bind', preferred: 'preferred', interleave: 'interleave', restrictive: 'restrictive' };

/** qemuBuildMemoryBackendProps: returns [props, needed]. */
export function memoryBackendProps(state: BuildState, mem: BackendMem, force: boolean, systemMemory: boolean): { props: JsonObject; needed: boolean; nodemask?: number[] } {
  const { def, caps } = state;
  const cells = numaCells(def);
  let access = mem.access;
  let discard = mem.discard;
  if (mem.targetNode >= 0) {
    if (!access) access = cells[mem.targetNode]?.memAccess;
    if (discard === undefined) discard = cells[mem.targetNode]?.discard;
  }
  if (!access) access = def.memoryBacking?.access;
  if (discard === undefined) discard = def.memoryBacking?.discard;
  const nt = numatuneNodeset(def, mem.targetNode);
  const nodeSpecified = mem.targetNode >= 0 && !!def.numatune?.memnodes.some((m) => m.cellid === mem.targetNode);
  const ps = memoryPagesize(state, mem);
  const source = def.memoryBacking?.source;
  const o: JsonObject = {};
  let backendType = 'memory-backend-file';
  let nodemask = mem.nodemask;
  const hasSourceNodes = !!nodemask;
  let disableCanonical = false;
  if (!mem.nvdimmPath && source === 'memfd') {
    backendType = 'memory-backend-memfd';
    if (ps.useHugepage) {
      o.hugetlb = true;
      o.hugetlbsize = ps.pagesize * 1024;
    }
    if (access) o.share = access === 'shared';
    if (systemMemory) disableCanonical = true;
  } else if (ps.useHugepage || mem.nvdimmPath || access || source === 'file') {
    let memPath: string;
    if (mem.nvdimmPath) memPath = mem.nvdimmPath;
    else if (ps.useHugepage) memPath = hugepagePath(state, ps.pagesize);
    else memPath = `${state.cfg.memoryBackingDir}/${state.shortName}/${mem.pathName ?? mem.alias}`;
    o['mem-path'] = memPath;
    if (!mem.nvdimmPath && discard !== undefined) o['discard-data'] = discard;
    if (access) o.share = access === 'shared';
    if (systemMemory) disableCanonical = true;
  } else backendType = 'memory-backend-ram';
  if (disableCanonical && caps.has('memory-backend-file.x-use-canonical-path-for-ramblock-id')) o['x-use-canonical-path-for-ramblock-id'] = false;
  if (mem.model === 'virtio-mem') {
    if (caps.has('memory-backend-file.reserve')) o.reserve = false;
  } else {
    if (ps.prealloc) o.prealloc = true;
    const threads = def.memoryBacking?.allocation?.threads;
    if (threads) o['prealloc-threads'] = threads;
  }
  o.size = mem.size * 1024;
  if (mem.model === 'nvdimm' && mem.alignsize) o.align = mem.alignsize * 1024;
  if (mem.model === 'nvdimm' && mem.pmem) o.pmem = true;
  if (!hasSourceNodes && nt.nodeset) nodemask = nt.nodeset;
  if (nodemask) {
    const avail = state.opts.hostNumaNodes;
    if (avail) for (const n of nodemask) if (!avail.includes(n)) throw unsupported(`NUMA node ${n} is unavailable`);
    if (nt.mode !== 'restrictive') {
      o['host-nodes'] = nodemask;
      o.policy = NUMA_POLICY[nt.mode] ?? 'bind';
    }
  }
  const needed = !(!ps.needHugepage && !hasSourceNodes && !nodeSpecified && !mem.nvdimmPath && !access && source !== 'file' && source !== 'memfd' && !force);
  const out: JsonObject = { 'qom-type': backendType, id: mem.alias, ...o };
  return nodemask ? { props: out, needed, nodemask } : { props: out, needed };
}

/** qemuBuildThreadContextProps: a thread-context object for preallocated, node-bound memory. */
function threadContext(state: BuildState, memProps: JsonObject, nodemask: number[] | undefined): JsonObject | undefined {
  if (!state.caps.has('thread-context') || !nodemask || memProps.prealloc !== true) return undefined;
  const alias = `tc-${String(memProps.id)}`;
  memProps['prealloc-context'] = alias;
  return props([['qom-type', 'thread-context'], ['id', alias], ['node-affinity', nodemask]]);
}

/** A memory backend object, after its thread-context object when it has one. */
export function memObjectParts(state: BuildState, r: { props: JsonObject; nodemask?: number[] }): BackendPart[] {
  const tc = threadContext(state, r.props, r.nodemask);
  return [...(tc ? [{ option: '-object' as const, props: tc }] : []), { option: '-object', props: r.props }];
}

export function buildMemory(cmd: QemuCommand, state: BuildState): void {
  const { def } = state;
  const initial = memoryInitial(def);
  if (hasMemoryHotplug(def)) cmd.arg('-m', `size=${initial}k,slots=${def.memory.slots},maxmem=${def.memory.max}k`);
  else cmd.arg('-m', String(Math.floor(initial / 1024)));
  const ramId = defaultRamId(state);
  if (ramId && numaCells(def).length === 0) {
    const r = memoryBackendProps(state, { size: initial, targetNode: -1, alias: ramId }, false, true);
    cmd.backends(memObjectParts(state, r));
  } else if (!ramId && numaCells(def).length === 0) buildMemPath(cmd, state);
  cmd.arg('-overcommit', `mem-lock=${def.memoryBacking?.locked ? 'on' : 'off'}`);
}

/** qemuBuildMemPathStr: legacy -mem-path / -mem-prealloc. */
function buildMemPath(cmd: QemuCommand, state: BuildState): void {
  const { def } = state;
  const systemPage = state.opts.hostPageSizeKiB ?? state.cfg.hostPageSizeKiB;
  let memPath: string | undefined;
  let prealloc = false;
  const hp = def.memoryBacking?.hugepages;
  if (hp && (hp[0]?.size ?? 0) !== systemPage) {
    const size = hp[0]?.size || defaultHugepageSize(state);
    memPath = hugepagePath(state, size);
    prealloc = true;
  } else if (def.memoryBacking?.source === 'file') memPath = `${state.cfg.memoryBackingDir}/${state.shortName}/ram`;
  if (def.memoryBacking?.allocation?.mode === 'immediate') prealloc = true;
  if (prealloc) cmd.arg('-mem-prealloc');
  if (memPath) cmd.arg('-mem-path', memPath);
}

export function buildSmp(cmd: QemuCommand, state: BuildState): void {
  const { def, caps } = state;
  const max = def.vcpu.max;
  let n = 0;
  if (def.vcpu.vcpus) {
    def.vcpu.vcpus.forEach((v) => {
      if (v.enabled && v.hotpluggable === false) n++;
    });
  } else n = def.vcpu.current;
  let s = String(n);
  if (n !== max) s += `,maxcpus=${max}`;
  const t = def.cpu?.topology;
  if (t && t.sockets) {
    if (t.dies !== 1 && !caps.has('smp-dies')) throw unsupported('Only 1 die per socket is supported');
    s += `,sockets=${t.sockets}`;
    if (caps.has('smp-dies')) s += `,dies=${t.dies}`;
    s += `,cores=${t.cores},threads=${t.threads}`;
  } else s += `,sockets=${max},cores=1,threads=1`;
  cmd.arg('-smp', s);
}

export function buildIothreads(cmd: QemuCommand, state: BuildState): void {
  const { def } = state;
  for (const io of def.iothreadids) {
    const o = props([
      ['qom-type', 'iothread'], ['id', `iothread${io.id}`], ['thread-pool-min', nonneg(io.threadPoolMin)], ['thread-pool-max', nonneg(io.threadPoolMax)],
      ['poll-max-ns', io.poll?.max], ['poll-grow', io.poll?.grow], ['poll-shrink', io.poll?.shrink],
    ]);
    cmd.arg('-object', toJson(o));
  }
  if (def.defaultIothread) {
    cmd.arg('-object', toJson(props([
      ['qom-type', 'main-loop'], ['id', 'main-loop'], ['thread-pool-min', nonneg(def.defaultIothread.threadPoolMin)],
      ['thread-pool-max', nonneg(def.defaultIothread.threadPoolMax)],
    ])));
  }
}

/**
 * virDomainNumaGetNodeInitiator: a node with vCPUs initiates for itself;
 * otherwise the initiator with the lowest latency (or else the highest
 * bandwidth) to it.
 */
function numaNodeInitiator(def: DomainDef, node: number): number {
  const cells = numaCells(def);
  if (cells[node]?.cpus?.length) return node;
  let minLat = Infinity;
  let maxBw = 0;
  let byLat = -1;
  let byBw = -1;
  for (const l of def.cpu?.numa?.interconnects ?? []) {
    if (l.target !== node) continue;
    if (l.kind === 'latency' && l.value < minLat) {
      minLat = l.value;
      byLat = l.initiator;
    } else if (l.kind === 'bandwidth' && l.value > maxBw) {
      maxBw = l.value;
      byBw = l.initiator;
    }
  }
  return byLat >= 0 ? byLat : byBw;
}

export function buildNuma(cmd: QemuCommand, state: BuildState): void {
  const { def, caps } = state;
  const cells = numaCells(def);
  if (!cells.length) return;
  const machine = caps.machines(accelOf(def)).find((m) => m.name === def.os.machine);
  let needBackend = !machine?.numaMemSupported;
  const hmat = !!def.cpu?.numa?.interconnects?.length || cells.some((c) => c.caches?.length);
  if (hmat) needBackend = true;
  const backends = cells.map((c, i) => {
    const r = memoryBackendProps(state, { size: c.memory, targetNode: i, alias: `ram-node${i}` }, false, false);
    if (r.needed) needBackend = true;
    return r;
  });
  if (!needBackend) buildMemPath(cmd, state);
  const master = cells.findIndex((c) => c.cpus && c.cpus.length);
  if (master < 0) throw unsupported('At least one NUMA node has to have CPUs');
  cells.forEach((c, i) => {
    if (needBackend) cmd.backends(memObjectParts(state, backends[i]!));
    let s = `node,nodeid=${i}`;
    if (c.cpus && c.cpus.length) for (const part of formatIdList(c.cpus).split(',')) s += `,cpus=${part}`;
    if (hmat) {
      const ini = numaNodeInitiator(def, i);
      s += `,initiator=${ini < 0 ? master : ini}`;
    }
    if (needBackend) s += `,memdev=ram-node${i}`;
    else s += `,mem=${Math.floor(c.memory / 1024)}`;
    cmd.arg('-numa', s);
  });
  if (cells.some((c) => c.distances && c.distances.length)) {
    for (let i = 0; i < cells.length; i++) {
      for (let j = 0; j < cells.length; j++) {
        const d = cells[i]!.distances?.find((x) => x.id === j)?.value ?? cells[j]!.distances?.find((x) => x.id === i)?.value ?? (i === j ? 10 : 20);
        cmd.arg('-numa', `dist,src=${i},dst=${j},val=${d}`);
      }
    }
  }
  if (hmat) {
    const hier = ['memory', 'first-level', 'second-level', 'third-level'];
    for (const ic of def.cpu?.numa?.interconnects ?? []) {
      let s = `hmat-lb,initiator=${ic.initiator},target=${ic.target},hierarchy=${hier[ic.cache ?? 0]},data-type=${ic.type}-`;
      s += ic.kind === 'latency' ? `latency,latency=${ic.value}` : `bandwidth,bandwidth=${ic.value}K`;
      cmd.arg('-numa', s);
    }
    cells.forEach((c, i) => {
      for (const ca of c.caches ?? []) {
        let s = `hmat-cache,node-id=${i},size=${ca.size}K,level=${ca.level}`;
        s += `,associativity=${ca.associativity === 'full' ? 'complex' : ca.associativity}`;
        s += `,policy=${ca.policy === 'writeback' ? 'write-back' : ca.policy === 'writethrough' ? 'write-through' : ca.policy}`;
        if (ca.line) s += `,line=${ca.line}`;
        cmd.arg('-numa', s);
      }
    });
  }
}

// ---------------------------------------------------------------- smbios

function kids(el: XmlElement, name: string): XmlElement[] {
  return el.elements(name);
}

function entries(el: XmlElement | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of el?.elements('entry') ?? []) {
    const n = e.attr('name');
    if (n) out.set(n, e.text());
  }
  return out;
}

export function buildSmbios(cmd: QemuCommand, state: BuildState): void {
  const { def } = state;
  const mode = def.os.smbios;
  if (!mode || mode === 'emulate') return;
  if (mode === 'host') throw unsupported('Host SMBIOS information is not available');
  const si = (def.sysinfo ?? []).find((s) => (s.attr('type') ?? 'smbios') === 'smbios');
  if (!si) throw new VirtError('XML_ERROR', `Domain '${def.name}' sysinfo are not available`, { origin: 'qemu' });
  const add = (s: string, k: string, v: string | undefined) => (v !== undefined ? `${s},${k}=${escapeComma(v)}` : s);
  const bios = si.child('bios');
  if (bios) {
    const e = entries(bios);
    let s = 'type=0';
    s = add(s, 'vendor', e.get('vendor'));
    s = add(s, 'version', e.get('version'));
    s = add(s, 'date', e.get('date'));
    s = add(s, 'release', e.get('release'));
    cmd.arg('-smbios', s);
  }
  const sys = si.child('system');
  if (sys) {
    const e = entries(sys);
    let s = 'type=1';
    for (const k of ['manufacturer', 'product', 'version', 'serial', 'uuid', 'sku', 'family']) s = add(s, k, e.get(k));
    cmd.arg('-smbios', s);
  }
  for (const bb of kids(si, 'baseBoard')) {
    const e = entries(bb);
    let s = `type=2,manufacturer=${escapeComma(e.get('manufacturer') ?? '')}`;
    for (const k of ['product', 'version', 'serial', 'asset', 'location']) s = add(s, k, e.get(k));
    cmd.arg('-smbios', s);
  }
  const ch = si.child('chassis');
  if (ch) {
    const e = entries(ch);
    let s = `type=3,manufacturer=${escapeComma(e.get('manufacturer') ?? '')}`;
    for (const k of ['version', 'serial', 'asset', 'sku']) s = add(s, k, e.get(k));
    cmd.arg('-smbios', s);
  }
  const oem = si.child('oemStrings');
  if (oem) {
    let s = 'type=11';
    for (const v of oem.elements('entry')) s += `,value=${escapeComma(v.text())}`;
    cmd.arg('-smbios', s);
  }
}

export function buildSysinfoFwcfg(cmd: QemuCommand, state: BuildState): void {
  for (const si of state.def.sysinfo ?? []) {
    if (si.attr('type') !== 'fwcfg') continue;
    for (const e of si.elements('entry')) {
      const name = e.attr('name') ?? '';
      const file = e.attr('file');
      const text = e.text();
      cmd.arg('-fw_cfg', file && !text ? `name=${name},file=${file}` : `name=${name},string=${text}`);
    }
  }
}

// ---------------------------------------------------------------- clock, pm, boot

function isoUtc(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19);
}

export function buildClock(cmd: QemuCommand, state: BuildState): void {
  const { def, caps } = state;
  const c = def.clock;
  let s: string;
  switch (c.offset) {
    case 'utc': s = 'base=utc'; break;
    case 'localtime':
    case 'timezone': s = 'base=localtime'; break;
    case 'variable': {
      const now = state.opts.now ? state.opts.now() : Math.floor(Date.now() / 1000);
      if (c.basis === 'localtime') {
        // Fold the host's current UTC offset into the adjustment now, so the
        // live definition keeps a plain UTC basis (as libvirt does).
        const local = state.opts.localUtcOffset ? state.opts.localUtcOffset() : -new Date(now * 1000).getTimezoneOffset() * 60;
        c.adjustment = (c.adjustment ?? 0) + local;
        c.basis = 'utc';
      }
      s = `base=${isoUtc(now + (c.adjustment ?? 0))}`;
      break;
    }
    case 'absolute': s = `base=${isoUtc(c.start ?? 0)}`; break;
    default: throw unsupported(`unsupported clock offset '${String(c.offset)}'`);
  }
  const rtc = c.timers.find((t) => t.name === 'rtc');
  if (rtc) {
    if (rtc.track === 'guest') s += ',clock=vm';
    else if (rtc.track === 'wall') s += ',clock=host';
    else if (rtc.track === 'realtime') s += ',clock=rt';
    if (rtc.tickpolicy === 'catchup') s += ',driftfix=slew';
  }
  cmd.arg('-rtc', s);
  if (c.offset === 'timezone' && c.timezone) cmd.setEnv('TZ', c.timezone);
  for (const t of c.timers) {
    if (t.name === 'pit') {
      if ((t.tickpolicy === undefined || t.tickpolicy === 'delay') && caps.has('kvm-pit-lost-tick-policy')) cmd.arg('-global', 'kvm-pit.lost_tick_policy=delay');
      else if (t.tickpolicy === 'discard' && caps.has('kvm-pit-lost-tick-policy')) cmd.arg('-global', 'kvm-pit.lost_tick_policy=discard');
    } else if (t.name === 'hpet') {
      if (t.present === false && !caps.has('machine-hpet') && isX86(def.os.arch)) cmd.arg('-no-hpet');
    }
  }
}

export function buildPm(cmd: QemuCommand, state: BuildState): void {
  const { def, caps } = state;
  if (state.opts.noShutdown !== false) cmd.arg('-no-shutdown');
  const m = caps.machines(accelOf(def)).find((x) => x.name === def.os.machine);
  if (m?.acpi === undefined && (isX86(def.os.arch) || def.os.arch === 'aarch64')) {
    if (def.features?.states.acpi !== true) cmd.arg('-no-acpi');
  }
  const pm = def.pm;
  if (pm && (pm.suspendToMem !== undefined || pm.suspendToDisk !== undefined)) {
    const obj = isQ35(def) ? 'ICH9-LPC' : 'PIIX4_PM';
    if (pm.suspendToMem !== undefined) cmd.arg('-global', `${obj}.disable_s3=${pm.suspendToMem ? 0 : 1}`);
    if (pm.suspendToDisk !== undefined) cmd.arg('-global', `${obj}.disable_s4=${pm.suspendToDisk ? 0 : 1}`);
  }
}

export function buildBoot(cmd: QemuCommand, state: BuildState): void {
  const { def } = state;
  const os = def.os;
  let s = '';
  if (os.bootmenu) s += os.bootmenu.enable ? 'menu=on,' : 'menu=off,';
  if (os.bios?.rebootTimeout !== undefined) s += `reboot-timeout=${os.bios.rebootTimeout},`;
  if (os.bootmenu?.timeout !== undefined) s += `splash-time=${os.bootmenu.timeout},`;
  s += 'strict=on';
  cmd.arg('-boot', s);
  if (os.kernel) cmd.arg('-kernel', os.kernel);
  if (os.initrd) cmd.arg('-initrd', os.initrd);
  if (os.cmdline !== undefined) cmd.arg('-append', os.cmdline);
  if (os.dtb) cmd.arg('-dtb', os.dtb);
  if (os.slicTable) cmd.arg('-acpitable', `sig=SLIC,file=${escapeComma(os.slicTable)}`);
}
