import { VirtError } from '@virtkit/core';
import { deriveFlags } from './flags.js';
import { QapiSchema } from './qapi-schema.js';
import type { QemuAccelCaps, QemuCapsData, QemuCpuModel, QemuDeviceProperty, QemuHostCpu, QemuHostCpuProperty, QemuMachineType, QmpExchange } from './types.js';

type Json = Record<string, unknown>;

function asArray(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Json[]) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function machinesFromReply(reply: unknown): QemuMachineType[] {
  // The 'none' machine only serves probing; libvirt leaves it out.
  const list = asArray(reply).filter((m) => m.name !== 'none').map((m) => {
    const out: QemuMachineType = {
      name: String(m.name),
      maxCpus: typeof m['cpu-max'] === 'number' ? m['cpu-max'] : 0,
      hotplugCpus: m['hotpluggable-cpus'] === true,
      isDefault: m['is-default'] === true,
      numaMemSupported: m['numa-mem-supported'] === true,
      deprecated: m.deprecated === true,
    };
    if (str(m.alias)) out.alias = str(m.alias);
    if (str(m['default-cpu-type'])) out.defaultCpu = str(m['default-cpu-type']);
    if (str(m['default-ram-id'])) out.defaultRamId = str(m['default-ram-id']);
    if (typeof m.acpi === 'boolean') out.acpi = m.acpi;
    return out;
  });
  // Like libvirt, the default machine comes first, the others keep QEMU's order.
  const def = list.findIndex((m) => m.isDefault);
  if (def > 0) list.unshift(...list.splice(def, 1));
  return list;
}

export function cpuModelsFromReply(reply: unknown): QemuCpuModel[] {
  return asArray(reply).map((c) => {
    const unavailable = Array.isArray(c['unavailable-features']) ? (c['unavailable-features'] as unknown[]).map(String) : undefined;
    const out: QemuCpuModel = {
      name: String(c.name),
      usable: unavailable === undefined ? 'unknown' : unavailable.length === 0 ? 'yes' : 'no',
      blockers: unavailable ?? [],
      deprecated: c.deprecated === true,
    };
    if (str(c.typename)) out.typename = str(c.typename);
    if (str(c['alias-of'])) out.alias = str(c['alias-of']);
    return out;
  });
}

function propsFromReply(reply: unknown): QemuDeviceProperty[] {
  return asArray(reply).map((p) => {
    const out: QemuDeviceProperty = { name: String(p.name), type: String(p.type ?? '') };
    if ('default-value' in p) out.defaultValue = p['default-value'];
    if (str(p.description)) out.description = str(p.description);
    return out;
  });
}

function hostCpuFrom(round: QmpExchange[]): QemuHostCpu | undefined {
  const expansions = round.filter((e) => e.command === 'query-cpu-model-expansion' && e.args?.type === 'static' && e.return);
  if (expansions.length === 0) return undefined;
  const model = (e: QmpExchange) => ((e.return as Json).model ?? {}) as { name?: string; props?: Record<string, unknown> };
  const migratable = expansions.find((e) => !((e.args?.model as Json | undefined)?.props as Json | undefined)?.hasOwnProperty('migratable'));
  const full = expansions.find((e) => ((e.args?.model as Json | undefined)?.props as Json | undefined)?.migratable === false) ?? migratable!;
  const migProps = migratable ? model(migratable).props ?? {} : {};
  const props: QemuHostCpuProperty[] = [];
  for (const [name, value] of Object.entries(model(full).props ?? {})) {
    const type = typeof value === 'boolean' ? 'boolean' : typeof value === 'number' ? 'number' : 'string';
    const prop: QemuHostCpuProperty = { name, type, value: value as boolean | number | string };
    if (type === 'boolean' && value === true) prop.migratable = migProps[name] === true;
    props.push(prop);
  }
  return { model: model(full).name ?? 'host', migratability: migratable !== undefined, props };
}

function accelFrom(round: QmpExchange[]): QemuAccelCaps {
  const out: QemuAccelCaps = {
    machines: machinesFromReply(round.find((e) => e.command === 'query-machines')?.return),
    cpuModels: cpuModelsFromReply(round.find((e) => e.command === 'query-cpu-definitions')?.return),
  };
  const host = hostCpuFrom(round);
  if (host) out.hostCpu = host;
  return out;
}

/** Splits a probe log into rounds, one per monitor session (each starts with qmp_capabilities). */
function splitRounds(exchanges: readonly QmpExchange[]): QmpExchange[][] {
  const rounds: QmpExchange[][] = [];
  for (const e of exchanges) {
    if (e.command === 'qmp_capabilities' || rounds.length === 0) rounds.push([]);
    rounds.at(-1)!.push(e);
  }
  return rounds;
}

/**
 * Builds the capabilities from what QEMU answered while probed: the first
 * round holds everything (under KVM when query-kvm says it is enabled),
 * a later one the TCG-specific machine and CPU lists, as libvirt records
 * them in its .replies files.
 */
export function capsFromExchanges(exchanges: readonly QmpExchange[], binary: string): QemuCapsData {
  const rounds = splitRounds(exchanges);
  const main = rounds[0] ?? [];
  const get = (cmd: string) => main.find((e) => e.command === cmd);
  const version = get('query-version')?.return as { qemu?: { major: number; minor: number; micro: number }; package?: string } | undefined;
  if (!version?.qemu) throw new VirtError('INTERNAL_ERROR', `QEMU capabilities of ${binary}: no query-version reply`, { origin: 'qemu' });
  const arch = str((get('query-target')?.return as Json | undefined)?.arch) ?? 'x86_64';
  const kvmState = (get('query-kvm')?.return ?? {}) as { present?: boolean; enabled?: boolean };
  const kvmRound = kvmState.enabled === true;

  const schemaEntries = Array.isArray(get('query-qmp-schema')?.return) ? (get('query-qmp-schema')!.return as unknown[]) : undefined;
  const schema = schemaEntries ? new QapiSchema(schemaEntries) : undefined;
  const commands = new Set<string>(asArray(get('query-commands')?.return).map((c) => String(c.name)));
  if (schema) for (const c of schema.names('command')) commands.add(c);
  const events = new Set<string>(schema ? schema.names('event') : asArray(get('query-events')?.return).map((e) => String(e.name)));
  const types = asArray(get('qom-list-types')?.return).map((t) => String(t.name));
  const deviceProps: Record<string, QemuDeviceProperty[]> = {};
  const objectProps: Record<string, QemuDeviceProperty[]> = {};
  for (const e of main) {
    const typename = str(e.args?.typename);
    if (!typename || e.error) continue;
    if (e.command === 'device-list-properties') deviceProps[typename] = propsFromReply(e.return);
    if (e.command === 'qom-list-properties') objectProps[typename] = propsFromReply(e.return);
  }
  const commandLine = new Map<string, string[]>();
  for (const o of asArray(get('query-command-line-options')?.return)) {
    commandLine.set(String(o.option), asArray(o.parameters).map((p) => String(p.name)));
  }
  const migrationCapabilities = asArray(get('query-migrate-capabilities')?.return).map((c) => String(c.capability));
  const tpmModels = Array.isArray(get('query-tpm-models')?.return) ? (get('query-tpm-models')!.return as unknown[]).map(String) : [];
  const tpmTypes = Array.isArray(get('query-tpm-types')?.return) ? (get('query-tpm-types')!.return as unknown[]).map(String) : [];
  const v = version.qemu.major * 1_000_000 + version.qemu.minor * 1000 + version.qemu.micro;

  const flags = deriveFlags({
    arch, version: v, commands, events, types: new Set(types), deviceProps, objectProps, schema, commandLine,
    migrationCapabilities: new Set(migrationCapabilities), tpmModels, tpmTypes,
    kvm: { present: kvmState.present === true, enabled: kvmState.enabled === true },
    sevSupported: get('query-sev-capabilities')?.return !== undefined,
    sgxSupported: get('query-sgx-capabilities')?.return !== undefined,
    machineCpuMax: asArray(get('query-machines')?.return).some((m) => 'cpu-max' in m),
  });

  const empty: QemuAccelCaps = { machines: [], cpuModels: [] };
  const first = accelFrom(main);
  const second = rounds[1] ? accelFrom(rounds[1]) : undefined;
  return {
    format: 1,
    binary,
    version: v,
    package: version.package ?? '',
    arch,
    kvmVersion: 0,
    microcodeVersion: 0,
    flags: [...flags].sort(),
    kvm: kvmRound ? first : empty,
    tcg: kvmRound ? second ?? empty : first,
    types,
    deviceProps,
    objectProps,
    commands: [...commands].sort(),
    events: [...events].sort(),
    tpmModels,
    tpmTypes,
    migrationCapabilities,
    hypervCapabilities: [],
    schema: schemaEntries,
  };
}

/** Reads libvirt's .replies format: JSON objects separated by blank lines, each command followed by its reply. */
export function parseRepliesFile(text: string, what = 'QEMU replies file'): QmpExchange[] {
  const chunks = text.split(/\n\s*\n/).map((c) => c.trim()).filter((c) => c !== '');
  const objs: Json[] = [];
  for (const c of chunks) {
    try {
      objs.push(JSON.parse(c) as Json);
    } catch (err) {
      throw new VirtError('PARSE_FAILED', `${what}: malformed JSON block: ${c.slice(0, 80)}`, { origin: 'qemu', cause: err });
    }
  }
  const out: QmpExchange[] = [];
  for (let i = 0; i + 1 < objs.length; i += 2) {
    const req = objs[i]!;
    const rep = objs[i + 1]!;
    if (typeof req.execute !== 'string') throw new VirtError('PARSE_FAILED', `${what}: block ${i + 1} is not a command`, { origin: 'qemu' });
    const ex: QmpExchange = { command: req.execute };
    if (req.arguments && typeof req.arguments === 'object') ex.args = req.arguments as Json;
    if ('error' in rep) ex.error = rep.error as QmpExchange['error'];
    else ex.return = rep.return;
    out.push(ex);
  }
  return out;
}
