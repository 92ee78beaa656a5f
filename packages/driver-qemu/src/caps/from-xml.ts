import { readFile } from 'node:fs/promises';
import { parseXml, VirtError, type XmlElement } from '@virtkit/core';
import { capsFromExchanges, parseRepliesFile } from './from-exchanges.js';
import { QemuCapabilities } from './capabilities.js';
import type { QemuAccelCaps, QemuCapsData, QemuHostCpuProperty } from './types.js';

function num(el: XmlElement, name: string, where: string): number {
  const text = el.childText(name);
  if (text === undefined || text.trim() === '') return 0;
  const n = Number(text.trim());
  if (!Number.isFinite(n)) throw new VirtError('XML_ERROR', `${where}: <${name}> is not a number: '${text}'`, { origin: 'qemu' });
  return n;
}

function accelFromXml(root: XmlElement, type: 'kvm' | 'tcg'): QemuAccelCaps {
  const machines = root.elements('machine').filter((m) => m.attr('type') === type).map((m) => {
    const out: QemuAccelCaps['machines'][number] = {
      name: m.attr('name') ?? '',
      maxCpus: Number(m.attr('maxCpus') ?? 0),
      hotplugCpus: m.attr('hotplugCpus') === 'yes',
      isDefault: m.attr('default') === 'yes',
      numaMemSupported: m.attr('numaMemSupported') === 'yes',
      deprecated: m.attr('deprecated') === 'yes',
    };
    if (m.attr('alias')) out.alias = m.attr('alias');
    if (m.attr('defaultCPU')) out.defaultCpu = m.attr('defaultCPU');
    if (m.attr('defaultRAMid')) out.defaultRamId = m.attr('defaultRAMid');
    if (m.attr('acpi')) out.acpi = m.attr('acpi') === 'on';
    return out;
  });
  const cpuModels = root.elements('cpu').filter((c) => c.attr('type') === type).map((c) => {
    const usable = c.attr('usable');
    const out: QemuAccelCaps['cpuModels'][number] = {
      name: c.attr('name') ?? '',
      usable: usable === 'yes' ? 'yes' : usable === 'no' ? 'no' : 'unknown',
      blockers: c.elements('blocker').map((b) => b.attr('name') ?? ''),
      deprecated: c.attr('deprecated') === 'yes',
    };
    if (c.attr('typename')) out.typename = c.attr('typename');
    return out;
  });
  const accel: QemuAccelCaps = { machines, cpuModels };
  const host = root.elements('hostCPU').find((h) => h.attr('type') === type);
  if (host) {
    accel.hostCpu = {
      model: host.attr('model') ?? 'host',
      migratability: host.attr('migratability') === 'yes',
      props: host.elements('property').map((p) => {
        const type = (p.attr('type') ?? 'string') as QemuHostCpuProperty['type'];
        const raw = p.attr('value') ?? '';
        const value = type === 'boolean' ? raw === 'true' : type === 'number' ? Number(raw) : raw;
        const prop: QemuHostCpuProperty = { name: p.attr('name') ?? '', type, value };
        if (p.hasAttr('migratable')) prop.migratable = p.attr('migratable') === 'yes';
        return prop;
      }),
    };
  }
  return accel;
}

/**
 * Reads libvirt's qemuCaps cache XML (the tests' caps_*.xml): flags,
 * version, machine types and CPU models per accelerator, host CPU,
 * Hyper-V enlightenments.
 */
export function capsDataFromLibvirtXml(xml: string, what = 'QEMU capabilities XML'): QemuCapsData {
  const root = parseXml(xml, what);
  if (root.name !== 'qemuCaps') throw new VirtError('XML_ERROR', `${what}: root element is <${root.name}>, expected <qemuCaps>`, { origin: 'qemu' });
  return {
    format: 1,
    binary: root.childText('emulator') ?? '',
    version: num(root, 'version', what),
    package: root.childText('package') ?? '',
    arch: root.childText('arch') ?? 'x86_64',
    kvmVersion: num(root, 'kvmVersion', what),
    microcodeVersion: num(root, 'microcodeVersion', what),
    flags: root.elements('flag').map((f) => f.attr('name') ?? '').filter(Boolean),
    kvm: accelFromXml(root, 'kvm'),
    tcg: accelFromXml(root, 'tcg'),
    types: [],
    deviceProps: {},
    objectProps: {},
    commands: [],
    events: [],
    tpmModels: [],
    tpmTypes: [],
    migrationCapabilities: [],
    hypervCapabilities: (root.child('hypervCapabilities')?.elements('cap') ?? []).map((c) => c.attr('name') ?? ''),
  };
}

/**
 * A libvirt test caps dump: the XML is authoritative for flags, machines
 * and CPUs (what libvirt 9.0 derived); the .replies file, when given, adds
 * what the XML does not keep (QAPI schema, QOM types, device properties,
 * commands, events).
 */
export async function loadLibvirtCapsDump(xmlPath: string, repliesPath?: string): Promise<QemuCapabilities> {
  let xml: string;
  try {
    xml = await readFile(xmlPath, 'utf8');
  } catch (err) {
    throw new VirtError('OPEN_FAILED', `cannot read QEMU capabilities dump ${xmlPath}: ${(err as Error).message}`, { origin: 'qemu', cause: err });
  }
  const data = capsDataFromLibvirtXml(xml, xmlPath);
  if (repliesPath) {
    let text: string;
    try {
      text = await readFile(repliesPath, 'utf8');
    } catch (err) {
      throw new VirtError('OPEN_FAILED', `cannot read QEMU replies ${repliesPath}: ${(err as Error).message}`, { origin: 'qemu', cause: err });
    }
    const probed = capsFromExchanges(parseRepliesFile(text, repliesPath), data.binary);
    data.types = probed.types;
    data.deviceProps = probed.deviceProps;
    data.objectProps = probed.objectProps;
    data.commands = probed.commands;
    data.events = probed.events;
    data.tpmModels = probed.tpmModels;
    data.tpmTypes = probed.tpmTypes;
    data.migrationCapabilities = probed.migrationCapabilities;
    data.schema = probed.schema;
  }
  return new QemuCapabilities(data);
}
