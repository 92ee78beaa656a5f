/**
 * Where the LXC driver keeps things for one URI:
 *
 *   <config>/lxc/NAME.xml              persistent definitions (inactive XML)
 *   <config>/lxc/autostart/NAME.xml    autostart links → the definition
 *   <runtime>/lxc/NAME.json            runtime state: pids, live XML, NICs, last state
 *   <runtime>/lxc/NAME.lock            the domain's cross-process lock
 *   <runtime>/lxc/containers/LXCNAME/  the lxcpath: LXC config, log, console log
 *
 * Every write is atomic (temporary file + rename), so a reader in another
 * process sees the old or the new state, never a torn one.
 */
import { lstat, mkdir, readdir, readFile, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtError, writeFileAtomic, type StateDirs } from '@virtkit/core';
import type { NicRecord } from '../host/nics.js';

const XML = '.xml';
const JSON_SUFFIX = '.json';

export interface LxcPaths {
  configDir: string;
  autostartDir: string;
  runtimeDir: string;
  /** LXC's lxcpath for this URI. */
  lxcpath: string;
}

export function lxcPathsFor(dirs: StateDirs): LxcPaths {
  const configDir = join(dirs.config, 'lxc');
  const runtimeDir = join(dirs.runtime, 'lxc');
  return { configDir, autostartDir: join(configDir, 'autostart'), runtimeDir, lxcpath: join(runtimeDir, 'containers') };
}

export type LxcDomainPhase = 'running' | 'paused' | 'shutoff';

/** What a stop was asked for, so whoever finds the container gone records the right reason. */
export type StopRequest = 'shutdown' | 'destroy' | 'reboot';

export interface LxcRuntimeState {
  version: 1;
  name: string;
  uuid: string;
  /** The container's name for the LXC tools. */
  lxcName: string;
  phase: LxcDomainPhase;
  /** libvirt-style reason: booted, user, shutdown, destroyed, crashed, failed, … */
  reason: string;
  /** Whether a persistent definition exists (else the domain vanishes when it stops). */
  persistent: boolean;
  /** The LXC monitor process (the domain id) and the container's init (host pids). */
  monitorPid?: number;
  initPid?: number;
  /** Start time of the monitor (/proc/PID/stat field 22), to tell a reused pid. */
  monitorStartTicks?: number;
  startedAt?: number;
  /** The live definition while running. */
  liveXml?: string;
  nics: NicRecord[];
  /** cgroup folder names given to LXC, whether relative to the starter's cgroup, and the folders they became. */
  cgroup?: { container: string; monitor: string; pivot: string; relative: boolean; folders?: string[] };
  logFile?: string;
  consoleLogFile?: string;
  stopRequest?: { kind: StopRequest; at: number };
  /** Process that asked for autodestroy: the domain is destroyed when it is gone. */
  autodestroyPid?: number;
  /** Bumped at every change; with lastEvent, lets other processes replay what happened. */
  seq: number;
  lastEvent?: { type: string; detail: string; pid: number; at: number };
  /** The driver instance that wrote it (`pid:random`). */
  writer?: string;
}

export class LxcStore {
  constructor(readonly paths: LxcPaths) {}

  // ---------------------------------------------------------- definitions

  definitionPath(name: string): string {
    return join(this.paths.configDir, `${name}${XML}`);
  }

  async definitionNames(): Promise<string[]> {
    return listSuffixed(this.paths.configDir, XML);
  }

  async readDefinition(name: string): Promise<string | undefined> {
    return readOptional(this.definitionPath(name), 'domain definition');
  }

  async writeDefinition(name: string, xml: string): Promise<void> {
    const header =
      '<!--\n' +
      'WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n' +
      'OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n' +
      `  virtkit edit ${name}\n` +
      'or other application using the virtkit API.\n' +
      '-->\n\n';
    await writeFileAtomic(this.definitionPath(name), header + xml, 0o600);
  }

  async removeDefinition(name: string): Promise<void> {
    await this.setAutostart(name, false);
    await unlink(this.definitionPath(name)).catch(ignoreMissing);
  }

  async isAutostart(name: string): Promise<boolean> {
    return lstat(join(this.paths.autostartDir, `${name}${XML}`)).then(
      () => true,
      () => false,
    );
  }

  async setAutostart(name: string, on: boolean): Promise<void> {
    const link = join(this.paths.autostartDir, `${name}${XML}`);
    if (!on) {
      await unlink(link).catch(ignoreMissing);
      return;
    }
    if (await this.isAutostart(name)) return;
    await mkdir(this.paths.autostartDir, { recursive: true });
    await symlink(this.definitionPath(name), link).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }

  // ---------------------------------------------------------- runtime state

  statePath(name: string): string {
    return join(this.paths.runtimeDir, `${name}${JSON_SUFFIX}`);
  }

  lockPath(name: string): string {
    return join(this.paths.runtimeDir, `${name}.lock`);
  }

  async stateNames(): Promise<string[]> {
    return listSuffixed(this.paths.runtimeDir, JSON_SUFFIX);
  }

  async readState(name: string): Promise<LxcRuntimeState | undefined> {
    const text = await readOptional(this.statePath(name), 'domain runtime state');
    if (text === undefined) return undefined;
    try {
      const s = JSON.parse(text) as LxcRuntimeState;
      if (s.version !== 1 || typeof s.name !== 'string' || typeof s.uuid !== 'string') return undefined;
      s.nics ??= [];
      return s;
    } catch {
      // A state file that cannot be read is treated as absent (written atomically, so only by hand).
      return undefined;
    }
  }

  async writeState(s: LxcRuntimeState): Promise<void> {
    await writeFileAtomic(this.statePath(s.name), `${JSON.stringify(s, null, 1)}\n`, 0o600);
  }

  async removeState(name: string): Promise<void> {
    await unlink(this.statePath(name)).catch(ignoreMissing);
  }

  containerDir(lxcName: string): string {
    return join(this.paths.lxcpath, lxcName);
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

async function listSuffixed(dir: string, suffix: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  return entries.filter((e) => e.endsWith(suffix) && !e.startsWith('.')).map((e) => e.slice(0, -suffix.length));
}

async function readOptional(path: string, what: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VirtError('SYSTEM_ERROR', `cannot read ${what} ${path}: ${(err as Error).message}`, { origin: 'lxc', cause: err });
  }
}
