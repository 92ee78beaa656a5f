import {
  bytesToKiB, formatDomainXml, parseDomainXml, parseMac, parseScaled, parseXml, resolveLocalVolumeDiskSource, VirtError,
  type DeviceChangeOptions, type DiskDef, type DomainDef, type DomainInterfaceDef, type MemoryDeviceDef, type XmlElement,
} from '@virtkit/core';
import { assignDeviceAliases } from '../command/alias.js';
import { QemuDeviceBuilder } from '../command/devices.js';
import { diskRemovalNames, sourceChain } from '../command/disk-nodes.js';
import type { DeviceParts } from '../command/parts.js';
import { runtimeBuildOptions } from './command-line.js';
import type { QmpClient } from '../qmp/client.js';
import type { QemuDomains } from './domains.js';
import { monitors } from './monitors.js';
import { plugNic, unplugNic } from './nics.js';
import type { DomainRecord } from './record.js';
import { isActive, type DomainView } from './views.js';

const DEVICE_KINDS = new Set([
  'disk', 'controller', 'lease', 'filesystem', 'interface', 'smartcard', 'serial', 'parallel', 'console', 'channel', 'input', 'tpm',
  'graphics', 'sound', 'audio', 'video', 'hostdev', 'redirdev', 'redirfilter', 'hub', 'watchdog', 'memballoon', 'rng', 'panic', 'shmem',
  'memory', 'iommu', 'vsock', 'crypto',
]);

/** How long a guest gets to release an unplugged device (libvirt waits 5 s, then leaves it pending). */
const UNPLUG_WAIT_MS = 10_000;

function invalid(msg: string): VirtError {
  return new VirtError('OPERATION_INVALID', `Requested operation is not valid: ${msg}`, { origin: 'qemu' });
}

function parseDeviceElement(xml: string): XmlElement {
  const el = parseXml(xml, 'device XML');
  if (!DEVICE_KINDS.has(el.name)) throw new VirtError('XML_ERROR', `unknown device type '${el.name}'`, { origin: 'qemu' });
  return el;
}

/**
 * The definition with one more device, through the QEMU parser: the
 * device gets the defaults, checks and bus address a define would give it.
 */
async function withDevice(d: QemuDomains, def: DomainDef, el: XmlElement, inactive: boolean): Promise<DomainDef> {
  const config = await d.parserConfigFor(def);
  const tree = parseXml(formatDomainXml(def, { inactive, config }), 'domain XML');
  let devices = tree.child('devices');
  if (!devices) tree.children.push((devices = parseXml('<devices/>', 'devices')));
  devices.children.push(el.clone());
  if (el.name === 'memory') {
    // A memory module adds to the total (and the balloon target), as virDomainMemoryInsert does.
    const size = sizeOf(el.find('target/size'), '<memory><target><size>') ?? 0;
    for (const [name, value] of [['memory', def.memory.total + size], ['currentMemory', (def.memory.current || def.memory.total) + size]] as const) {
      const e = tree.child(name);
      if (e) {
        e.attrs = { ...e.attrs, unit: 'KiB' };
        e.children = [String(value)];
      }
    }
  }
  const out = parseDomainXml(tree, { config, inactive, what: `domain '${def.name}' with the new device` });
  out.id = def.id;
  return out;
}

function sizeOf(el: XmlElement | undefined, where: string): number | undefined {
  if (!el) return undefined;
  return bytesToKiB(parseScaled(el.text().trim(), el.attr('unit'), where, 1024n));
}

// ------------------------------------------------------------ matching (detach, update)

function findDisk(def: DomainDef, el: XmlElement): number {
  const dst = el.find('target')?.attr('dev');
  const src = el.find('source');
  const path = src?.attr('file') ?? src?.attr('dev') ?? src?.attr('dir');
  let i = dst ? def.devices.disks.findIndex((x) => x.dst === dst) : -1;
  if (i < 0 && path) i = def.devices.disks.findIndex((x) => x.src.path === path);
  if (i < 0) throw new VirtError('NO_DEVICE', `no disk with target '${dst ?? path ?? '?'}' in domain '${def.name}'`, { origin: 'qemu' });
  return i;
}

function findInterface(def: DomainDef, el: XmlElement): number {
  const macText = el.find('mac')?.attr('address');
  const alias = el.find('alias')?.attr('name');
  const mac = macText ? parseMac(macText) : undefined;
  const matches = def.devices.interfaces.map((n, i) => ({ n, i })).filter(({ n }) => (!mac || n.mac === mac) && (!alias || n.info.alias === alias));
  if (matches.length === 0) throw new VirtError('NO_DEVICE', `no interface with MAC ${mac ?? alias ?? '?'} in domain '${def.name}'`, { origin: 'qemu' });
  if (matches.length > 1 && !alias) throw new VirtError('OPERATION_FAILED', `multiple interfaces of domain '${def.name}' match; give the MAC address (or the alias)`, { origin: 'qemu' });
  return matches[0]!.i;
}

function findMemory(def: DomainDef, el: XmlElement): number {
  const model = el.attr('model');
  const size = sizeOf(el.find('target/size'), '<memory><target><size>');
  const alias = el.find('alias')?.attr('name');
  const slot = el.find('address')?.attr('slot');
  const i = def.devices.memories.findIndex(
    (m) => (!model || m.model === model) && (size === undefined || m.size === size) && (!alias || m.info.alias === alias) &&
      (slot === undefined || (m.info.address?.type === 'dimm' && m.info.address.slot === Number(slot))),
  );
  if (i < 0) throw new VirtError('NO_DEVICE', `no matching memory device in domain '${def.name}'`, { origin: 'qemu' });
  return i;
}

function findByAlias<T extends { info: { alias?: string } }>(list: T[], el: XmlElement, kind: string, name: string): number {
  const alias = el.find('alias')?.attr('name');
  const i = alias ? list.findIndex((x) => x.info.alias === alias) : list.length === 1 ? 0 : -1;
  if (i < 0) throw new VirtError('NO_DEVICE', `no matching ${kind} in domain '${name}'${alias ? '' : ' (give its <alias name>)'}`, { origin: 'qemu' });
  return i;
}

/** Removes the device `el` names from a definition; returns what was removed. */
function removeDevice(def: DomainDef, el: XmlElement): { kind: string; dev: unknown } {
  const d = def.devices;
  switch (el.name) {
    case 'disk': {
      const i = findDisk(def, el);
      return { kind: 'disk', dev: d.disks.splice(i, 1)[0] };
    }
    case 'interface': {
      const i = findInterface(def, el);
      return { kind: 'interface', dev: d.interfaces.splice(i, 1)[0] };
    }
    case 'memory': {
      const i = findMemory(def, el);
      const [m] = d.memories.splice(i, 1);
      def.memory.total -= m!.size;
      if (def.memory.current > def.memory.total) def.memory.current = def.memory.total;
      return { kind: 'memory', dev: m };
    }
    case 'controller':
      return { kind: 'controller', dev: d.controllers.splice(findByAlias(d.controllers, el, 'controller', def.name), 1)[0] };
    case 'hostdev':
      return { kind: 'hostdev', dev: d.hostdevs.splice(findByAlias(d.hostdevs, el, 'host device', def.name), 1)[0] };
    case 'rng':
      return { kind: 'rng', dev: d.rngs.splice(findByAlias(d.rngs, el, 'rng', def.name), 1)[0] };
    case 'input':
      return { kind: 'input', dev: d.inputs.splice(findByAlias(d.inputs, el, 'input', def.name), 1)[0] };
    case 'channel':
      return { kind: 'channel', dev: d.channels.splice(findByAlias(d.channels, el, 'channel', def.name), 1)[0] };
    case 'serial':
      return { kind: 'serial', dev: d.serials.splice(findByAlias(d.serials, el, 'serial', def.name), 1)[0] };
    case 'watchdog':
      return { kind: 'watchdog', dev: d.watchdogs.splice(findByAlias(d.watchdogs, el, 'watchdog', def.name), 1)[0] };
    case 'filesystem':
      return { kind: 'filesystem', dev: d.filesystems.splice(findByAlias(d.filesystems, el, 'filesystem', def.name), 1)[0] };
    case 'video':
      return { kind: 'video', dev: d.videos.splice(findByAlias(d.videos, el, 'video', def.name), 1)[0] };
    case 'sound':
      return { kind: 'sound', dev: d.sounds.splice(findByAlias(d.sounds, el, 'sound', def.name), 1)[0] };
    case 'redirdev':
      return { kind: 'redirdev', dev: d.redirdevs.splice(findByAlias(d.redirdevs, el, 'redirdev', def.name), 1)[0] };
    default:
      throw new VirtError('NO_SUPPORT', `detaching <${el.name}> devices is not supported by the QEMU driver`, { origin: 'qemu' });
  }
}

// ------------------------------------------------------------ QMP helpers

async function nextNodeIndex(qmp: QmpClient): Promise<number> {
  const nodes = await qmp.execute<Array<{ 'node-name'?: string }>>('query-named-block-nodes', { flat: true });
  let max = 0;
  for (const n of nodes) {
    const m = /^libvirt-(\d+)-/.exec(n['node-name'] ?? '');
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

interface BlockInfo {
  device?: string;
  qdev?: string;
  inserted?: { 'node-name'?: string; file?: string };
}

function qdevMatches(qdev: string | undefined, alias: string): boolean {
  return qdev === alias || qdev === `/machine/peripheral/${alias}/virtio-backend` || qdev === `/machine/peripheral/${alias}`;
}

async function waitDeleted(qmp: QmpClient, alias: string, what: string): Promise<void> {
  const gone = qmp.waitForEvent('DEVICE_DELETED', { match: (e) => (e.data as { device?: string })?.device === alias, timeoutMs: UNPLUG_WAIT_MS });
  try {
    await qmp.execute('device_del', { id: alias });
  } catch (err) {
    gone.catch(() => {});
    throw err;
  }
  await gone.catch((err: unknown) => {
    throw new VirtError('OPERATION_TIMEOUT', `${what}: the guest did not release the device within ${UNPLUG_WAIT_MS / 1000} s (it is removed when the guest lets go)`, { origin: 'qemu', cause: err });
  });
}

/**
 * Adds a device as its start would have: the backends in command-line
 * order (object-add, blockdev-add, netdev_add), then device_add. A failed
 * step removes what was added before it.
 */
async function addDeviceParts(qmp: QmpClient, parts: DeviceParts, what: string): Promise<void> {
  for (const p of parts.backends) {
    if (!('props' in p)) throw new VirtError('NO_SUPPORT', `${what}: hot-plugging a device that needs ${p.option} ${p.text} is not supported by the QEMU driver`, { origin: 'qemu' });
  }
  const undo: Array<() => Promise<unknown>> = [];
  try {
    for (const p of parts.backends) {
      if (!('props' in p)) continue;
      const o = p.props;
      if (p.option === '-object') {
        await qmp.execute('object-add', o);
        undo.push(() => qmp.execute('object-del', { id: o.id }));
      } else if (p.option === '-blockdev') {
        await qmp.execute('blockdev-add', o);
        undo.push(() => qmp.execute('blockdev-del', { 'node-name': o['node-name'] }));
      } else {
        await qmp.execute('netdev_add', o);
        undo.push(() => qmp.execute('netdev_del', { id: o.id }));
      }
    }
    await qmp.execute('device_add', parts.device);
  } catch (err) {
    for (const u of undo.reverse()) await u().catch(() => {});
    throw err;
  }
}

/** Builds one device of the live definition `next` (it holds the device) the way a start of it would. */
async function deviceBuilder(d: QemuDomains, next: DomainDef, rec: DomainRecord, firstNodeIndex?: number): Promise<QemuDeviceBuilder> {
  const caps = await d.ctx.caps(await d.ctx.binaryFor(next));
  return new QemuDeviceBuilder(next, caps, { ...runtimeBuildOptions(d.ctx, rec.id, rec.runDir), ...(firstNodeIndex !== undefined ? { firstNodeIndex } : {}) });
}

// ------------------------------------------------------------ live attach by kind

async function hotplugDisk(d: QemuDomains, qmp: QmpClient, live: DomainDef, rec: DomainRecord, disk: DiskDef): Promise<void> {
  const what = `domain '${live.name}': disk '${disk.dst}'`;
  if (disk.device === 'cdrom' || disk.device === 'floppy') throw new VirtError('OPERATION_FAILED', `${what}: ${disk.device} devices cannot be hot-plugged; change their media with update-device`, { origin: 'qemu' });
  if (disk.bus !== 'virtio' && disk.bus !== 'scsi' && disk.bus !== 'usb') throw new VirtError('OPERATION_FAILED', `${what}: disk bus '${disk.bus}' cannot be hotplugged`, { origin: 'qemu' });
  if (disk.bus === 'scsi') {
    const ctl = disk.info.address?.type === 'drive' ? disk.info.address.controller : 0;
    const alias = live.devices.controllers.find((c) => c.type === 'scsi' && c.index === ctl)?.info.alias;
    const pci = alias ? await qmp.execute<Array<{ devices: Array<{ qdev_id: string }> }>>('query-pci') : [];
    if (!alias || !pci.some((b) => b.devices.some((x) => x.qdev_id === alias))) {
      throw new VirtError('OPERATION_FAILED', `${what}: SCSI controller ${ctl} is not present in the running guest; attach the controller first`, { origin: 'qemu' });
    }
  }
  const forQemu = structuredClone(disk);
  if (forQemu.src.type === 'volume') {
    const s = await resolveLocalVolumeDiskSource(d.ctx.uri, { plugins: d.ctx.plugins, events: d.ctx.events }, forQemu.src.pool!, forQemu.src.volume!);
    Object.assign(forQemu.src, s);
  }
  const builder = await deviceBuilder(d, live, rec, await nextNodeIndex(qmp));
  const parts = builder.disk(forQemu);
  // The live XML keeps the node indexes (<source index>): the unplug removes these nodes by name.
  const images = sourceChain(disk.src);
  sourceChain(forQemu.src).forEach((src, depth) => {
    if (images[depth] && src.index !== undefined) images[depth]!.index = src.index;
  });
  await addDeviceParts(qmp, parts, what);
  // Proof from QEMU: the frontend exists with the image inserted.
  const blocks = await qmp.execute<BlockInfo[]>('query-block');
  if (!blocks.some((b) => qdevMatches(b.qdev, disk.info.alias!) && b.inserted)) {
    throw new VirtError('OPERATION_FAILED', `${what}: QEMU does not list the hot-plugged disk in query-block`, { origin: 'qemu' });
  }
}

interface NamedBlockNode {
  'node-name'?: string;
  file?: string;
}

/**
 * The index of a disk's top image when the live XML lacks it (a guest
 * started before indexes were recorded): from QEMU's node under the
 * frontend, or under its copy-on-read layer the format node of its image.
 */
async function topIndexFromQemu(qmp: QmpClient, disk: DiskDef, inserted: string | undefined): Promise<number | undefined> {
  const direct = /^libvirt-(\d+)-format$/.exec(inserted ?? '');
  if (direct) return Number(direct[1]);
  if (!disk.src.path) return undefined;
  const nodes = await qmp.execute<NamedBlockNode[]>('query-named-block-nodes', { flat: true });
  const ids = nodes
    .filter((n) => n.file === disk.src.path)
    .map((n) => /^libvirt-(\d+)-format$/.exec(n['node-name'] ?? '')?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number);
  return ids.length ? Math.max(...ids) : undefined;
}

/**
 * Removes a disk from the running guest: the frontend (waiting for the
 * guest to let go), then every block node and object its start or
 * hot-plug created, as the builder named them: the copy-on-read layer,
 * each image of the backing chain from the top (format, slice, storage),
 * their secrets (libvirt's qemuDomainRemoveDiskDevice).
 */
async function hotunplugDisk(d: QemuDomains, qmp: QmpClient, live: DomainDef, disk: DiskDef): Promise<void> {
  const alias = disk.info.alias;
  const what = `domain '${live.name}': disk '${disk.dst}'`;
  if (!alias) throw new VirtError('OPERATION_FAILED', `${what}: the disk has no alias`, { origin: 'qemu' });
  if (disk.bus !== 'virtio' && disk.bus !== 'scsi' && disk.bus !== 'usb') throw new VirtError('OPERATION_FAILED', `${what}: disk bus '${disk.bus}' cannot be hot-unplugged`, { origin: 'qemu' });
  const blocks = await qmp.execute<BlockInfo[]>('query-block');
  const inserted = blocks.find((b) => qdevMatches(b.qdev, alias))?.inserted?.['node-name'];
  const topIndex = disk.src.index ?? (await topIndexFromQemu(qmp, disk, inserted));
  const removal = diskRemovalNames(disk, { ...(topIndex !== undefined ? { topIndex } : {}), config: d.ctx.config });
  await waitDeleted(qmp, alias, what);
  // As libvirt, a node or object that will not go is left behind: the device itself is gone.
  for (const node of removal.nodes) await qmp.execute('blockdev-del', { 'node-name': node }).catch(() => {});
  for (const id of removal.objects) await qmp.execute('object-del', { id }).catch(() => {});
}

interface PciBus {
  devices: Array<{ qdev_id: string; bridge?: { devices?: PciBus['devices'] } }>;
}

async function pciHas(qmp: QmpClient, alias: string): Promise<boolean> {
  const buses = await qmp.execute<PciBus[]>('query-pci');
  const walk = (devs: PciBus['devices']): boolean => devs.some((x) => x.qdev_id === alias || (x.bridge?.devices ? walk(x.bridge.devices) : false));
  return buses.some((b) => walk(b.devices));
}

async function hotplugNic(d: QemuDomains, qmp: QmpClient, live: DomainDef, rec: DomainRecord, net: DomainInterfaceDef): Promise<void> {
  const alias = net.info.alias!;
  const host = await plugNic(d.ctx, live, net, alias);
  try {
    const builder = await deviceBuilder(d, live, rec);
    await addDeviceParts(qmp, builder.nic(net), `domain '${live.name}': interface ${net.mac}`);
  } catch (err) {
    await unplugNic(d.ctx, host);
    throw err;
  }
  rec.nics = [...(rec.nics ?? []), host];
  if (!(await pciHas(qmp, alias))) throw new VirtError('OPERATION_FAILED', `domain '${live.name}': QEMU does not list the hot-plugged interface ${net.mac} in query-pci`, { origin: 'qemu' });
}

async function hotunplugNic(d: QemuDomains, qmp: QmpClient, live: DomainDef, rec: DomainRecord, net: DomainInterfaceDef): Promise<void> {
  const alias = net.info.alias;
  if (!alias) throw new VirtError('OPERATION_FAILED', `domain '${live.name}': interface ${net.mac} has no alias`, { origin: 'qemu' });
  await waitDeleted(qmp, alias, `domain '${live.name}': interface ${net.mac}`);
  await qmp.execute('netdev_del', { id: `host${alias}` }).catch(() => {});
  const host = rec.nics?.find((n) => n.alias === alias);
  if (host) {
    await unplugNic(d.ctx, host);
    rec.nics = rec.nics!.filter((n) => n !== host);
  }
}

async function hotplugMemory(d: QemuDomains, qmp: QmpClient, live: DomainDef, rec: DomainRecord, mem: MemoryDeviceDef): Promise<void> {
  const what = `domain '${live.name}': memory module`;
  if (mem.model !== 'dimm') throw new VirtError('NO_SUPPORT', `${what}: hot-plugging memory model '${mem.model}' is not supported (use model='dimm')`, { origin: 'qemu' });
  if (!live.memory.max || !live.memory.slots) throw invalid(`${what}: hot-plugging memory needs <maxMemory slots='…'> in the definition`);
  const others = live.devices.memories.filter((m) => m !== mem);
  if (others.length >= live.memory.slots) throw invalid(`${what}: no free memory device slot available`);
  if (live.memory.total > live.memory.max) throw invalid(`${what}: attaching ${mem.size} KiB would exceed <maxMemory> (${live.memory.max} KiB)`);
  if (mem.info.address?.type !== 'dimm') {
    const used = new Set(others.map((m) => (m.info.address?.type === 'dimm' ? m.info.address.slot : -1)));
    let slot = 0;
    while (used.has(slot)) slot++;
    mem.info.address = { type: 'dimm', slot };
  }
  const builder = await deviceBuilder(d, live, rec);
  await addDeviceParts(qmp, builder.memory(mem), what);
  const devs = await qmp.execute<Array<{ type: string; data: { id?: string } }>>('query-memory-devices');
  if (!devs.some((x) => x.data.id === mem.info.alias)) throw new VirtError('OPERATION_FAILED', `${what}: QEMU does not list the DIMM in query-memory-devices`, { origin: 'qemu' });
}

async function hotunplugMemory(qmp: QmpClient, live: DomainDef, mem: MemoryDeviceDef): Promise<void> {
  const alias = mem.info.alias;
  if (!alias) throw new VirtError('OPERATION_FAILED', `domain '${live.name}': the memory module has no alias`, { origin: 'qemu' });
  await waitDeleted(qmp, alias, `domain '${live.name}': memory module ${alias}`);
  await qmp.execute('object-del', { id: `mem${alias}` }).catch(() => {});
}

/** The devices of `after` that `before` lacks (by identity of their key). */
function added<T>(before: T[], after: T[], key: (x: T) => string): T[] {
  const have = new Set(before.map(key));
  return after.filter((x) => !have.has(key(x)));
}

// ------------------------------------------------------------ entry points

/** virDomainAttachDeviceFlags. */
export async function attachDeviceTo(d: QemuDomains, uuid: string, xml: string, opts: DeviceChangeOptions): Promise<void> {
  const el = parseDeviceElement(xml);
  await d.job(uuid, 'attach-device', async (v) => {
    const { live, config } = d.impact(v, opts);
    let newConfig: DomainDef | undefined;
    if (config) {
      checkUnique(v.config!, el);
      newConfig = await withDevice(d, v.config!, el, true);
    }
    if (live && isActive(v)) {
      checkUnique(v.live, el);
      const next = await withDevice(d, v.live, el, false);
      assignDeviceAliases(next);
      await plugLive(d, v as DomainView & { record: DomainRecord & { process: NonNullable<DomainRecord['process']> }; live: DomainDef }, next, el.name);
      d.ctx.emitOther('device-added', { name: v.name, uuid, id: v.record.id }, { kind: el.name });
    }
    if (newConfig) await d.saveConfig(newConfig);
  });
}

function checkUnique(def: DomainDef, el: XmlElement): void {
  if (el.name === 'disk') {
    const dst = el.find('target')?.attr('dev');
    if (dst && def.devices.disks.some((x) => x.dst === dst)) throw new VirtError('OPERATION_FAILED', `target ${dst} already exists in domain '${def.name}'`, { origin: 'qemu' });
  }
  if (el.name === 'interface') {
    const mac = el.find('mac')?.attr('address');
    if (mac && def.devices.interfaces.some((x) => x.mac === parseMac(mac))) {
      throw new VirtError('OPERATION_FAILED', `domain '${def.name}' already has an interface with MAC address ${mac}`, { origin: 'qemu' });
    }
  }
}

/** Hot-plugs the device `next` has and the live definition lacks, then records the new live definition. */
async function plugLive(d: QemuDomains, v: DomainView & { record: DomainRecord & { process: NonNullable<DomainRecord['process']> }; live: DomainDef }, next: DomainDef, kind: string): Promise<void> {
  const cur = v.live;
  const rec = { ...v.record };
  const m = await monitors.monitor(rec.process);
  try {
    if (kind === 'disk') {
      const [disk] = added(cur.devices.disks, next.devices.disks, (x) => x.dst);
      if (!disk) throw new VirtError('INTERNAL_ERROR', 'the new disk was not found after parsing', { origin: 'qemu' });
      await hotplugDisk(d, m.qmp, next, rec, disk);
    } else if (kind === 'interface') {
      const [net] = added(cur.devices.interfaces, next.devices.interfaces, (x) => x.mac);
      if (!net) throw new VirtError('INTERNAL_ERROR', 'the new interface was not found after parsing', { origin: 'qemu' });
      await hotplugNic(d, m.qmp, next, rec, net);
    } else if (kind === 'memory') {
      const mem = next.devices.memories.find((x) => !cur.devices.memories.some((c) => c.info.alias === x.info.alias));
      if (!mem) throw new VirtError('INTERNAL_ERROR', 'the new memory module was not found after parsing', { origin: 'qemu' });
      await hotplugMemory(d, m.qmp, next, rec, mem);
    } else {
      throw new VirtError('NO_SUPPORT', `live attaching of <${kind}> devices is not supported by the QEMU driver (use --config)`, { origin: 'qemu' });
    }
  } finally {
    await m.release();
  }
  await d.saveLive(next, rec);
}

/** virDomainDetachDeviceFlags. */
export async function detachDeviceFrom(d: QemuDomains, uuid: string, xml: string, opts: DeviceChangeOptions): Promise<void> {
  const el = parseDeviceElement(xml);
  await d.job(uuid, 'detach-device', async (v) => {
    const { live, config } = d.impact(v, opts);
    let newConfig: DomainDef | undefined;
    if (config) {
      newConfig = structuredClone(v.config!);
      removeDevice(newConfig, el);
    }
    if (live && isActive(v)) {
      const next = structuredClone(v.live);
      const { kind, dev } = removeDevice(next, el);
      const rec = { ...v.record };
      const m = await monitors.monitor(rec.process);
      try {
        if (kind === 'disk') await hotunplugDisk(d, m.qmp, next, dev as DiskDef);
        else if (kind === 'interface') await hotunplugNic(d, m.qmp, next, rec, dev as DomainInterfaceDef);
        else if (kind === 'memory') await hotunplugMemory(m.qmp, next, dev as MemoryDeviceDef);
        else throw new VirtError('NO_SUPPORT', `live detaching of <${kind}> devices is not supported by the QEMU driver (use --config)`, { origin: 'qemu' });
      } finally {
        await m.release();
      }
      await d.saveLive(next, rec);
      d.ctx.emitOther('device-removed', { name: v.name, uuid, id: v.record.id }, { kind });
    }
    if (newConfig) await d.saveConfig(newConfig);
  });
}

/**
 * virDomainUpdateDeviceFlags: media of a cdrom/floppy (change or eject)
 * and the link state of an interface live; any matching device in the
 * persistent definition.
 */
export async function updateDeviceOf(d: QemuDomains, uuid: string, xml: string, opts: DeviceChangeOptions): Promise<void> {
  const el = parseDeviceElement(xml);
  if (el.name !== 'disk' && el.name !== 'interface') throw new VirtError('NO_SUPPORT', `updating <${el.name}> devices is not supported by the QEMU driver`, { origin: 'qemu' });
  await d.job(uuid, 'update-device', async (v) => {
    const { live, config } = d.impact(v, opts);
    const replace = async (def: DomainDef, inactive: boolean): Promise<{ next: DomainDef; old: DiskDef | DomainInterfaceDef; now: DiskDef | DomainInterfaceDef }> => {
      const base = structuredClone(def);
      const { dev } = removeDevice(base, el);
      const next = await withDevice(d, base, el, inactive);
      const list = el.name === 'disk' ? next.devices.disks : next.devices.interfaces;
      const key = el.name === 'disk' ? (dev as DiskDef).dst : (dev as DomainInterfaceDef).mac;
      const now = (list as Array<DiskDef | DomainInterfaceDef>).find((x) => ('dst' in x ? x.dst : x.mac) === key)!;
      now.info = (dev as DiskDef).info; // same device: keep its alias and address
      return { next, old: dev as DiskDef, now };
    };
    if (live && isActive(v)) {
      const { next, old, now } = await replace(v.live, false);
      const m = await monitors.monitor(v.record.process);
      try {
        if (el.name === 'disk') {
          const o = old as DiskDef;
          const n = now as DiskDef;
          if (o.device !== 'cdrom' && o.device !== 'floppy') throw new VirtError('OPERATION_FAILED', `domain '${v.name}': disk '${o.dst}': only the media of cdrom and floppy disks can be changed`, { origin: 'qemu' });
          if (n.src.path) await m.qmp.execute('blockdev-change-medium', { id: o.info.alias, filename: n.src.path, format: n.src.format ?? 'raw' });
          else await m.qmp.execute('eject', { id: o.info.alias, force: true });
        } else {
          const n = now as DomainInterfaceDef;
          await m.qmp.execute('set_link', { name: n.info.alias, up: n.linkState !== 'down' });
        }
      } finally {
        await m.release();
      }
      await d.saveLive(next);
    }
    if (config) {
      const { next } = await replace(v.config!, true);
      await d.saveConfig(next);
    }
  });
}
