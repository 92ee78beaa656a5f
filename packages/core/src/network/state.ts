/**
 * The runtime state of a started network, one JSON file per network in
 * `<runtime>/network/NAME.json`, written atomically. It holds the live
 * definition, every host change the mode made (the undo steps, in order),
 * the mode's runtime values and the ports guests hold. A state whose phase
 * is `starting` or `stopping` after its owner died is a crash to roll back.
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import type { NetworkUndoStep } from './mode.js';
import type { NetworkPort } from './ports.js';

export type NetworkPhase = 'starting' | 'active' | 'stopping';

export interface NetworkRuntimeState {
  version: 1;
  name: string;
  uuid: string;
  phase: NetworkPhase;
  /** pid of the process in the middle of a transition (starting/stopping). */
  owner?: number;
  /** The forward mode the network was started with (`none` when isolated). */
  mode: string;
  /** The live definition (network XML). */
  xml: string;
  steps: NetworkUndoStep[];
  data: Record<string, unknown>;
  ports: NetworkPort[];
  /** ms since the epoch. */
  startedAt: number;
}

const SUFFIX = '.json';

export function statePath(runtimeDir: string, name: string): string {
  return join(runtimeDir, `${name}${SUFFIX}`);
}

export async function readNetworkState(runtimeDir: string, name: string): Promise<NetworkRuntimeState | undefined> {
  const path = statePath(runtimeDir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VirtError('SYSTEM_ERROR', `cannot read network state ${path}: ${(err as Error).message}`, { origin: 'network', cause: err });
  }
  try {
    const s = JSON.parse(text) as NetworkRuntimeState;
    if (s.version !== 1 || typeof s.name !== 'string' || !Array.isArray(s.steps)) throw new Error('unknown layout');
    s.ports ??= [];
    s.data ??= {};
    return s;
  } catch (err) {
    throw new VirtError('INTERNAL_ERROR', `network state ${path} is corrupt: ${(err as Error).message}`, { origin: 'network', cause: err });
  }
}

export async function writeNetworkState(runtimeDir: string, state: NetworkRuntimeState): Promise<void> {
  await writeFileAtomic(statePath(runtimeDir, state.name), JSON.stringify(state, null, 1) + '\n', 0o600);
}

export async function removeNetworkState(runtimeDir: string, name: string): Promise<void> {
  await unlink(statePath(runtimeDir, name)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Names of networks with a state file. */
export async function listNetworkStateNames(runtimeDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(runtimeDir);
  } catch {
    return [];
  }
  return entries.filter((e) => e.endsWith(SUFFIX) && !e.startsWith('.')).map((e) => e.slice(0, -SUFFIX.length));
}

