import { VirtError, type DeviceChangeOptions, type DomainDef } from '@virtkit/core';
import { hotpluggableCpuProps } from '../command/devices.js';
import type { QmpClient } from '../qmp/client.js';
import type { QemuDomains } from './domains.js';
import { monitors } from './monitors.js';
import { isActive } from './views.js';

function invalid(msg: string): VirtError {
  return new VirtError('OPERATION_INVALID', `Requested operation is not valid: ${msg}`, { origin: 'qemu' });
}

/**
 * virDomainSetMemoryFlags: the balloon target of a running guest
 * (`balloon`), the current or maximum memory of the definition.
 */
export async function setDomainMemory(d: QemuDomains, uuid: string, kib: number, opts: DeviceChangeOptions & { maximum?: boolean }): Promise<void> {
  await d.job(uuid, opts.maximum ? 'setmaxmem' : 'setmem', async (v) => {
    const { live, config } = d.impact(v, opts);
    if (opts.maximum) {
      if (live) throw invalid(`cannot resize the maximum memory on an active domain '${v.name}'`);
      const def = v.config!;
      const hotplugged = def.devices.memories.reduce((s, m) => s + m.size, 0);
      if (def.memory.max && kib + hotplugged > def.memory.max) throw new VirtError('INVALID_ARG', `domain '${v.name}': initial memory plus memory modules would exceed <maxMemory>`, { origin: 'qemu' });
      def.memory.total = kib + hotplugged;
      if (def.memory.current > def.memory.total || def.memory.current === 0) def.memory.current = def.memory.total;
      await d.saveConfig(def);
      return;
    }
    if (live && isActive(v)) {
      const def = v.live;
      if (kib > def.memory.total) throw new VirtError('INVALID_ARG', `domain '${v.name}': cannot set memory higher than max memory (${def.memory.total} KiB)`, { origin: 'qemu' });
      if (!def.devices.memballoon || def.devices.memballoon.model === 'none') {
        throw invalid(`Unable to change memory of active domain '${v.name}' without the balloon device and guest OS balloon driver`);
      }
      const m = await monitors.monitor(v.record.process);
      try {
        await m.qmp.execute('balloon', { value: kib * 1024 });
      } finally {
        await m.release();
      }
      def.memory.current = kib;
      await d.saveLive(def);
    }
    if (config) {
      const def = v.config!;
      if (kib > def.memory.total) throw new VirtError('INVALID_ARG', `domain '${v.name}': cannot set memory higher than max memory (${def.memory.total} KiB)`, { origin: 'qemu' });
      def.memory.current = kib;
      await d.saveConfig(def);
    }
  });
}

export interface HotpluggableCpu {
  type: string;
  'vcpus-count': number;
  props: { 'node-id'?: number; 'socket-id'?: number; 'die-id'?: number; 'core-id'?: number; 'thread-id'?: number };
  'qom-path'?: string;
}

/** The vCPU id of a hot-pluggable entity, from the topology (libvirt's order: socket, die, core, thread). */
export function vcpuIndex(def: DomainDef, e: HotpluggableCpu): number {
  const t = def.cpu?.topology;
  const dies = t?.dies ?? 1;
  const cores = t?.cores ?? 1;
  const threads = t?.threads ?? 1;
  const p = e.props;
  return ((((p['socket-id'] ?? 0) * dies + (p['die-id'] ?? 0)) * cores + (p['core-id'] ?? 0)) * threads) + (p['thread-id'] ?? 0);
}

/** Adds or removes hot-pluggable CPUs until `count` vCPUs are present; returns the vCPU ids now online. */
async function setLiveVcpus(qmp: QmpClient, def: DomainDef, count: number, name: string): Promise<Set<number>> {
  const list = await qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus');
  const entities = list.map((e) => ({ e, id: vcpuIndex(def, e) })).sort((a, b) => a.id - b.id);
  let present = entities.filter((x) => x.e['qom-path']).reduce((s, x) => s + x.e['vcpus-count'], 0);
  for (const x of entities) {
    if (present >= count) break;
    if (x.e['qom-path']) continue;
    await qmp.execute('device_add', hotpluggableCpuProps(x.e, x.id));
    present += x.e['vcpus-count'];
  }
  for (const x of [...entities].reverse()) {
    if (present <= count) break;
    const path = x.e['qom-path'];
    if (!path) continue;
    if (!path.startsWith('/machine/peripheral/')) {
      throw invalid(`domain '${name}': vCPU ${x.id} was not hot-plugged and cannot be unplugged`);
    }
    const devId = path.slice('/machine/peripheral/'.length);
    const gone = qmp.waitForEvent('DEVICE_DELETED', { match: (ev) => (ev.data as { device?: string })?.device === devId, timeoutMs: 10_000 });
    await qmp.execute('device_del', { id: devId });
    await gone.catch(() => {
      throw new VirtError('OPERATION_TIMEOUT', `domain '${name}': the guest did not release vCPU ${x.id} within 10 s`, { origin: 'qemu' });
    });
    present -= x.e['vcpus-count'];
  }
  const after = await qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus');
  return new Set(after.filter((e) => e['qom-path']).map((e) => vcpuIndex(def, e)));
}

/** virDomainSetVcpusFlags: CPU hot(un)plug on the live guest, current/maximum counts of the definition. */
export async function setDomainVcpus(d: QemuDomains, uuid: string, count: number, opts: DeviceChangeOptions & { maximum?: boolean; guest?: boolean }): Promise<void> {
  if (opts.guest) throw new VirtError('ARGUMENT_UNSUPPORTED', 'setting the guest vCPU count needs the QEMU guest agent, which virtkit does not support yet', { origin: 'qemu' });
  await d.job(uuid, 'setvcpus', async (v) => {
    const { live, config } = d.impact(v, opts);
    if (opts.maximum) {
      if (live) throw invalid(`cannot change the maximum vCPU count of an active domain '${v.name}'`);
      const def = v.config!;
      def.vcpu.max = count;
      if (def.vcpu.current > count) def.vcpu.current = count;
      if (def.vcpu.vcpus) def.vcpu.vcpus = def.vcpu.vcpus.slice(0, count);
      await d.saveConfig(def);
      return;
    }
    if (live && isActive(v)) {
      const def = v.live;
      if (count > def.vcpu.max) throw new VirtError('INVALID_ARG', `domain '${v.name}': requested vcpus (${count}) is greater than max allowable vcpus (${def.vcpu.max})`, { origin: 'qemu' });
      const m = await monitors.monitor(v.record.process);
      let online: Set<number>;
      try {
        online = await setLiveVcpus(m.qmp, def, count, v.name);
      } finally {
        await m.release();
      }
      def.vcpu.current = online.size;
      def.vcpu.vcpus = Array.from({ length: def.vcpu.max }, (_, i) => {
        const prev = def.vcpu.vcpus?.[i];
        return { enabled: online.has(i), hotpluggable: i === 0 ? (prev?.hotpluggable ?? false) : true, ...(prev?.order !== undefined ? { order: prev.order } : {}) };
      });
      await d.saveLive(def);
    }
    if (config) {
      const def = v.config!;
      if (count > def.vcpu.max) throw new VirtError('INVALID_ARG', `domain '${v.name}': requested vcpus (${count}) is greater than max allowable vcpus (${def.vcpu.max})`, { origin: 'qemu' });
      def.vcpu.current = count;
      if (def.vcpu.vcpus) def.vcpu.vcpus = def.vcpu.vcpus.map((s, i) => ({ ...s, enabled: i < count }));
      await d.saveConfig(def);
    }
  });
}

/**
 * libvirt's qemuProcessSetupHotpluggableVcpus: vCPUs marked enabled and
 * hotpluggable are not in `-smp`; they are added as devices while QEMU is
 * still paused (in `order`), so a guest saved with hot-plugged vCPUs comes
 * back with them.
 */
export async function plugBootVcpus(qmp: QmpClient, def: DomainDef): Promise<void> {
  const wanted = (def.vcpu.vcpus ?? [])
    .map((s, id) => ({ s, id }))
    .filter(({ s }) => s.enabled && s.hotpluggable)
    .sort((a, b) => (a.s.order ?? a.id) - (b.s.order ?? b.id));
  if (wanted.length === 0) return;
  const list = await qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus');
  for (const { id } of wanted) {
    const e = list.find((x) => vcpuIndex(def, x) === id);
    if (!e) throw new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': QEMU has no hot-pluggable CPU for vCPU ${id}`, { origin: 'qemu' });
    if (e['qom-path']) continue;
    await qmp.execute('device_add', hotpluggableCpuProps(e, id));
  }
}
