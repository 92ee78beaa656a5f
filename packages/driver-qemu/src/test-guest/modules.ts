import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtError } from '@virtkit/core';

/** Kernel modules the test guest loads, by module name (`_` and `-` are the same to the kernel). */
export const TEST_GUEST_MODULES = [
  'virtio_pci',
  'virtio_blk',
  'virtio_net',
  'virtio_console',
  'virtio_balloon',
  'virtio_scsi',
  'virtio_rng',
  'virtio_input',
  // The ACPI power button: without it system_powerdown reaches nobody.
  'button',
  // /dev/input/event*: how the init script hears the power button.
  'evdev',
] as const;

function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/**
 * Reads modules.dep and returns the .ko paths (relative to the module dir)
 * to load, dependencies first. Modules that are built into the kernel
 * (listed in modules.builtin) are skipped; others that are missing fail.
 */
export async function resolveModules(moduleDir: string, wanted: readonly string[]): Promise<string[]> {
  let depText: string;
  try {
    depText = await readFile(join(moduleDir, 'modules.dep'), 'utf8');
  } catch (err) {
    throw new VirtError('SYSTEM_ERROR', `test guest: cannot read ${join(moduleDir, 'modules.dep')}: ${(err as Error).message}`, { cause: err });
  }
  const builtin = new Set<string>();
  try {
    for (const line of (await readFile(join(moduleDir, 'modules.builtin'), 'utf8')).split('\n')) if (line) builtin.add(moduleName(line));
  } catch {
    // no list: nothing is known to be built in
  }
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of depText.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const rest = line.slice(colon + 1).trim();
    deps.set(moduleName(path), { path, deps: rest ? rest.split(/\s+/) : [] });
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, chain: string[]) => {
    if (seen.has(name)) return;
    const entry = deps.get(name);
    if (!entry) {
      if (builtin.has(name)) return;
      throw new VirtError('NO_SUPPORT', `test guest: kernel module '${name}' (needed by ${chain.join(' <- ') || 'the guest'}) is not in ${moduleDir}`);
    }
    seen.add(name);
    for (const d of entry.deps) visit(moduleName(d), [name, ...chain]);
    order.push(entry.path);
  };
  for (const w of wanted) visit(w.replace(/-/g, '_'), []);
  return order;
}
