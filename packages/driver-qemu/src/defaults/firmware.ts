/**
 * Firmware autoselection (libvirt's qemu_firmware.c): `<os firmware='efi'>`
 * or `'bios'` is resolved at start against QEMU's firmware descriptors
 * (docs/interop/firmware.json), the JSON files distributions install in
 * /usr/share/qemu/firmware and admins override in /etc/qemu/firmware.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VirtError, type DomainDef } from '@virtkit/core';

export interface FirmwareDescriptor {
  /** The descriptor file (for messages). */
  path: string;
  interfaceTypes: string[];
  mapping:
    | { device: 'flash'; executable: { filename: string; format: string }; nvramTemplate?: { filename: string; format: string } }
    | { device: 'memory'; filename: string }
    | { device: 'kernel'; filename: string };
  targets: Array<{ architecture: string; machines: string[] }>;
  features: string[];
}

/** Descriptor folders in override order: later folders replace files of the same name. */
export function defaultFirmwareDirs(privileged = process.getuid?.() === 0): string[] {
  const dirs = ['/usr/share/qemu/firmware', '/etc/qemu/firmware'];
  if (!privileged) {
    const home = process.env.XDG_CONFIG_HOME ?? (process.env.HOME ? join(process.env.HOME, '.config') : undefined);
    if (home) dirs.push(join(home, 'qemu/firmware'));
  }
  return dirs;
}

function parseDescriptor(path: string, text: string): FirmwareDescriptor {
  const bad = (why: string) => new VirtError('INTERNAL_ERROR', `firmware descriptor '${path}': ${why}`, { origin: 'qemu' });
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw bad(`invalid JSON (${(e as Error).message})`);
  }
  const interfaceTypes = doc['interface-types'];
  const mapping = doc.mapping as Record<string, unknown> | undefined;
  const targets = doc.targets;
  if (!Array.isArray(interfaceTypes) || !mapping || !Array.isArray(targets)) throw bad("missing 'interface-types', 'mapping' or 'targets'");
  const file = (o: unknown, what: string) => {
    const f = o as { filename?: unknown; format?: unknown } | undefined;
    if (!f || typeof f.filename !== 'string') throw bad(`missing '${what}' filename`);
    return { filename: f.filename, format: typeof f.format === 'string' ? f.format : 'raw' };
  };
  let m: FirmwareDescriptor['mapping'];
  switch (mapping.device) {
    case 'flash': {
      m = { device: 'flash', executable: file(mapping.executable, 'executable') };
      if (mapping['nvram-template']) m.nvramTemplate = file(mapping['nvram-template'], 'nvram-template');
      break;
    }
    case 'memory':
    case 'kernel':
      m = { device: mapping.device, filename: file(mapping, 'mapping').filename };
      break;
    default:
      throw bad(`unknown mapping device '${String(mapping.device)}'`);
  }
  return {
    path,
    interfaceTypes: interfaceTypes.map(String),
    mapping: m,
    targets: targets.map((t: { architecture?: unknown; machines?: unknown }) => ({
      architecture: String(t.architecture ?? ''),
      machines: Array.isArray(t.machines) ? t.machines.map(String) : [],
    })),
    features: Array.isArray(doc.features) ? doc.features.map(String) : [],
  };
}

/**
 * qemuInteropFetchConfigs + qemuFirmwareParse: the `*.json` files of the
 * folders by file name (a later folder's file replaces an earlier one; an
 * empty file masks it), in name order.
 */
export function loadFirmwareDescriptors(dirs: string[] = defaultFirmwareDirs()): FirmwareDescriptor[] {
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (n.endsWith('.json')) byName.set(n, join(dir, n));
  }
  const out: FirmwareDescriptor[] = [];
  for (const name of [...byName.keys()].sort()) {
    const path = byName.get(name)!;
    if (statSync(path).size === 0) continue;
    out.push(parseDescriptor(path, readFileSync(path, 'utf8')));
  }
  return out;
}

/** g_pattern_match_simple: '*' and '?' wildcards. */
function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(s);
}

/** qemuFirmwareMatchDomain. */
export function firmwareMatches(def: DomainDef, fw: FirmwareDescriptor): boolean {
  const want = def.os.firmware === 'efi' ? 'uefi' : def.os.firmware === 'bios' ? 'bios' : undefined;
  if (!want || !fw.interfaceTypes.includes(want)) return false;
  const arch = def.os.arch ?? '';
  const machine = def.os.machine ?? '';
  if (!fw.targets.some((t) => t.architecture === arch && t.machines.some((p) => globMatch(p, machine)))) return false;
  const has = (f: string) => fw.features.includes(f);
  if (def.pm?.suspendToMem === true && !has('acpi-s3')) return false;
  if (def.pm?.suspendToDisk === true && !has('acpi-s4')) return false;
  for (const req of def.os.firmwareFeatures ?? []) {
    if (req.name !== 'secure-boot' && req.name !== 'enrolled-keys') continue;
    if (req.enabled !== has(req.name)) return false;
  }
  if (def.os.loader?.secure === true && !has('requires-smm')) return false;
  const sev = def.launchSecurity as { type: string; policy?: number } | undefined;
  if (sev?.type === 'sev') {
    if (!has('amd-sev')) return false;
    if ((sev.policy ?? 0) & 0x4 && !has('amd-sev-es')) return false;
  }
  return true;
}

/**
 * qemuFirmwareFillDomain for a new start of a domain with autoselection:
 * the first matching descriptor's images become the loader (and the
 * per-domain variable store), and SMM is turned on when it needs it.
 */
export function fillFirmware(def: DomainDef, descriptors: FirmwareDescriptor[], nvramDir: string): void {
  if (!def.os.firmware) return;
  const fw = descriptors.find((d) => firmwareMatches(def, d));
  if (!fw) throw new VirtError('OPERATION_FAILED', `Unable to find any firmware to satisfy '${def.os.firmware}'`, { origin: 'qemu' });
  const os = def.os;
  const m = fw.mapping;
  if (m.device === 'flash') {
    if (m.executable.format !== 'raw') throw new VirtError('CONFIG_UNSUPPORTED', `unsupported flash format '${m.executable.format}'`, { origin: 'qemu' });
    os.loader = { ...os.loader, type: 'pflash', readonly: true, path: m.executable.filename };
    if (!os.loader.stateless) {
      os.nvram = { ...os.nvram };
      if (m.nvramTemplate) os.nvram.template = m.nvramTemplate.filename;
      if (!os.nvram.path && !os.nvram.source) os.nvram.path = `${nvramDir}/${def.name}_VARS.fd`;
    }
  } else if (m.device === 'memory') {
    os.loader = { ...os.loader, type: 'rom', path: m.filename };
  } else {
    os.kernel = m.filename;
  }
  if (fw.features.includes('requires-smm')) {
    const f = (def.features ??= { states: {} });
    if (f.states.smm === false) throw new VirtError('OPERATION_INVALID', 'domain has SMM turned off but chosen firmware requires it', { origin: 'qemu' });
    f.states.smm = true;
    if (os.loader) os.loader.secure = true;
  }
}
