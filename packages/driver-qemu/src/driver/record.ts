import type { DomainState } from '@virtkit/core';
import type { Accelerator } from '../process/accel.js';
import type { QemuRuntimeState } from '../process/qemu-process.js';

/** A serial/console of a running guest and where its host side is. */
export interface ConsoleEndpoint {
  /** Device alias (`serial0`, `console0`). */
  alias: string;
  /** QEMU chardev id (`charserial0`). */
  chardev: string;
  kind: 'pty' | 'unix';
  path: string;
}

/** A host-side NIC device virtkit created for the guest and removes when it stops. */
export interface HostNicRecord {
  /** Interface alias in the live XML (`net0`). */
  alias: string;
  /** Tap device name. */
  tap?: string;
  /** Network port (for `<interface type='network'>`). */
  port?: { uuid: string; network: string };
}

/**
 * What `<runtime>/qemu/NAME.json` holds: the domain's state as the last
 * process that acted on it left it. For a running guest it also holds
 * everything needed to find and re-attach to its QEMU.
 */
export interface DomainRecord {
  format: 1;
  name: string;
  uuid: string;
  /** -1 when inactive. */
  id: number;
  state: DomainState;
  /** libvirt's state reason, lowercase. */
  reason: string;
  /** Whether the domain has a persistent definition. */
  persistent: boolean;
  /** Present while QEMU runs. */
  process?: QemuRuntimeState;
  accel?: Accelerator;
  startedAt?: number;
  /** The per-run folder (removed at stop). */
  runDir?: string;
  consoles?: ConsoleEndpoint[];
  nics?: HostNicRecord[];
  /** Where to undo a failed reboot: QEMU's shutdown action was changed. */
  autodestroy?: boolean;
  /** Set while the guest migrates: which end this host is, and which process drives it. */
  migration?: MigrationMark;
  /** Which write this is (writer pid, its count, time): tells a process whether the record is one it knows (store.ts). */
  stamp?: string;
}

/**
 * A migration in progress, as the record keeps it: when the process that
 * drives it dies, the next process that looks undoes it (an incoming
 * guest is removed, an outgoing one is resumed).
 */
export interface MigrationMark {
  role: 'in' | 'out';
  /** The process driving this end (a virtkitd, or the program that migrates). */
  ownerPid: number;
  ownerStartTime: number;
  startedAt: number;
  /** Outgoing: whether the guest ran when the migration began (resumed if it fails). */
  wasRunning?: boolean;
  /** Incoming: volumes created for copied disks (removed if it fails). */
  createdVolumes?: Array<{ pool: string; volume: string }>;
  /** Incoming: whether the domain had a definition here before (kept if it fails). */
  hadDefinition?: boolean;
}

export function isActiveRecord(r: DomainRecord | undefined): r is DomainRecord & { process: QemuRuntimeState } {
  return !!r && !!r.process && r.id >= 0;
}
