/**
 * The contract between core's local network driver and a network mode
 * package (@virtkit/network-nat, -route, -isolated, -open, -bridge).
 *
 * Core owns definitions, runtime state, locking, events, ports and the
 * checks that need only virtkit's own state; a mode owns the host side:
 * it brings the network up step by step, recording each change it made
 * (`ctx.record`) before making the next one, and knows how to undo each
 * recorded step. Core undoes the recorded steps in reverse on stop, on a
 * failed start, and after a crash, so a mode never needs its own cleanup
 * path, and stopping removes exactly what starting added.
 *
 * A mode package declares `"virtkit": { "kind": "network-mode", "modes": [...] }`
 * in package.json and default-exports a NetworkMode (or a function of the
 * forward mode returning one). The isolated mode is forward mode `none`.
 */
import type { DhcpLease, NetworkUpdateSection } from '../driver.js';
import type { NetworkDef } from '../models/network/types.js';
import type { HostCommandRunner } from './host-command.js';
import type { NetworkDriverSettings } from './settings.js';

/**
 * One change a mode made to the host, as plain JSON: enough to undo it
 * in another process after a crash (`{ kind: 'bridge', name: 'virbr0' }`,
 * `{ kind: 'nft-table', family: 'inet', name: 'virtkit_virbr0' }`, …).
 */
export interface NetworkUndoStep {
  kind: string;
  [key: string]: unknown;
}

export interface NetworkModeContext {
  /** The live definition (bridge name and MAC assigned). Do not modify. */
  readonly def: NetworkDef;
  /** Runs ip/nft/dnsmasq/sysctl (inside the configured namespace, if any). */
  readonly runner: HostCommandRunner;
  /** Runtime folder of the driver's networks (`<runtime>/network`): pid files, dnsmasq configuration. */
  readonly runtimeDir: string;
  /** Persistent folder of the driver's networks (`<data>/network`): DHCP leases. */
  readonly dataDir: string;
  readonly settings: NetworkDriverSettings;
  /** The steps recorded so far (oldest first). */
  readonly steps: readonly NetworkUndoStep[];
  /** Persists an undo step before returning (crash safety). */
  record(step: NetworkUndoStep): Promise<void>;
  /** Mode-private runtime values (a dnsmasq pid, a table name), saved with the state. */
  readonly data: Record<string, unknown>;
  /** Saves `data`. */
  saveData(): Promise<void>;
}

/** A live net-update the mode applies to a running network. */
export interface NetworkLiveChange {
  section: NetworkUpdateSection;
  /** The definition before the change (ctx.def is the new one). */
  previous: NetworkDef;
}

/** What a mode found when asked about a running network (crash re-attach). */
export interface NetworkHealth {
  /** False when the network's device is gone: core cleans up and marks it inactive. */
  present: boolean;
  /** Pieces that died but can be restarted (`repair`), e.g. 'dnsmasq'. */
  problems: string[];
}

export interface NetworkMode {
  /** Forward modes this object implements (`nat`, `route`, `open`, `none`, `bridge`). */
  readonly modes: readonly string[];
  /** Mode-specific define-time checks (host state not consulted). Throws VirtError. */
  validate?(def: NetworkDef): void;
  /** Start-time checks against the host (an existing bridge to attach to, …). Throws VirtError. */
  prepare?(ctx: NetworkModeContext): Promise<void>;
  /** Brings the network up, recording every change with ctx.record as it goes. */
  start(ctx: NetworkModeContext): Promise<void>;
  /** Undoes one recorded step; must succeed when the thing is already gone. */
  undo(step: NetworkUndoStep, ctx: NetworkModeContext): Promise<void>;
  /** Applies a live net-update (rewrite hosts files and SIGHUP dnsmasq, restart it, reload rules). */
  update?(ctx: NetworkModeContext, change: NetworkLiveChange): Promise<void>;
  /** Checks a running network's pieces. */
  health?(ctx: NetworkModeContext): Promise<NetworkHealth>;
  /** Restarts pieces `health` reported as problems. */
  repair?(ctx: NetworkModeContext, problems: readonly string[]): Promise<void>;
  /** The DHCP leases of a running network. */
  dhcpLeases?(ctx: NetworkModeContext): Promise<DhcpLease[]>;
}

/** Narrows what a plugin exported to a NetworkMode, or undefined. */
export function asNetworkMode(x: unknown): NetworkMode | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const m = x as Partial<NetworkMode>;
  return Array.isArray(m.modes) && typeof m.start === 'function' && typeof m.undo === 'function' ? (m as NetworkMode) : undefined;
}
