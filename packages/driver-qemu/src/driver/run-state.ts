/**
 * QEMU's run state against the runtime record, as libvirt reconciles them
 * when it reconnects to a running guest (qemuProcessUpdateState, the
 * "not fully started" rule and the recovery of a save of
 * qemuProcessReconnect / qemuProcessRecoverJob). Without a daemon nobody
 * hears QEMU's STOP and RESUME events between jobs, and a process can die
 * between a QMP command and its record: the next process that is not sure
 * of a record asks QEMU (`query-status`) and corrects it.
 */
import type { DomainEventDetail, DomainState } from '@virtkit/core';
import type { DomainRecord } from './record.js';

/** QMP's `query-status` answer (StatusInfo). */
export interface QemuStatus {
  running: boolean;
  /** RunState: running, paused, prelaunch, inmigrate, postmigrate, finish-migrate, io-error, watchdog, guest-panicked, shutdown, suspended, save-vm, restore-vm, internal-error, debug, colo. */
  status: string;
}

/**
 * libvirt's qemuMonitorVMStatusToPausedReason, in the reasons the driver
 * records (`saving` and `migration` as save.ts and migration/ write them).
 */
export function pausedReasonOf(status: string): string {
  switch (status) {
    case 'inmigrate':
    case 'postmigrate':
    case 'finish-migrate':
      return 'migration';
    case 'io-error':
      return 'ioerror';
    case 'paused':
    case 'prelaunch':
      return 'user';
    case 'save-vm':
      return 'saving';
    case 'shutdown':
      return 'shutting_down';
    case 'watchdog':
      return 'watchdog';
    case 'guest-panicked':
      return 'crashed';
    default:
      // debug, internal-error, restore-vm, colo, and a paused "running"
      return 'unknown';
  }
}

/** The suspended event's detail for a paused reason (qemuDomainPausedReasonToSuspendedEvent, plus the I/O error and watchdog handlers' own). */
export function suspendedDetailOf(reason: string): DomainEventDetail<'suspended'> {
  switch (reason) {
    case 'migration':
      return 'migrated';
    case 'ioerror':
      return 'ioerror';
    case 'watchdog':
      return 'watchdog';
    case 'postcopy':
      return 'postcopy';
    case 'postcopy_failed':
      return 'postcopy_failed';
    default:
      return 'paused';
  }
}

export type StateEvent =
  | { type: 'started'; detail: DomainEventDetail<'started'> }
  | { type: 'suspended'; detail: DomainEventDetail<'suspended'> }
  | { type: 'resumed'; detail: DomainEventDetail<'resumed'> }
  | { type: 'crashed'; detail: DomainEventDetail<'crashed'> }
  | { type: 'pmsuspended'; detail: DomainEventDetail<'pmsuspended'> };

/** What to do about a record after asking QEMU. */
export type RunStateFix =
  /** The record is right. */
  | { kind: 'none' }
  /** The record gets this state and reason; the event says so. */
  | { kind: 'record'; state: DomainState; reason: string; event: StateEvent; why: string }
  /** The start never finished (its process died with QEMU still in prelaunch): end QEMU. */
  | { kind: 'kill'; why: string }
  /** The guest powered off and QEMU was kept for a reboot whose process died: end QEMU as the power-off would have. */
  | { kind: 'poweroff'; why: string }
  /** A save's process died: cancel its migration and let the guest run on (it ran before the save). */
  | { kind: 'cancel-save'; paused: boolean; why: string };

/**
 * Compares a running domain's record with QEMU's run state. A record with
 * a migration mark is left to the migration's own recovery.
 */
export function planRunStateFix(rec: DomainRecord, qemu: QemuStatus): RunStateFix {
  if (rec.migration) return { kind: 'none' };
  const startingUp = rec.state === 'paused' && rec.reason === 'starting_up';
  if (rec.state === 'paused' && rec.reason === 'saving') {
    return { kind: 'cancel-save', paused: !qemu.running, why: 'the save of the domain did not finish' };
  }
  if (qemu.running) {
    if (startingUp) return { kind: 'record', state: 'running', reason: 'booted', event: { type: 'started', detail: 'booted' }, why: 'finished booting' };
    if (rec.state === 'pmsuspended') return { kind: 'record', state: 'running', reason: 'wakeup', event: { type: 'started', detail: 'wakeup' }, why: 'woke up' };
    if (rec.state === 'paused' || rec.state === 'crashed') {
      return { kind: 'record', state: 'running', reason: 'unpaused', event: { type: 'resumed', detail: 'unpaused' }, why: 'was unpaused' };
    }
    return { kind: 'none' };
  }
  if (startingUp) return { kind: 'kill', why: 'was not fully started' };
  if (rec.state !== 'running') return { kind: 'none' };
  switch (qemu.status) {
    case 'shutdown':
      return { kind: 'poweroff', why: 'powered off' };
    case 'guest-panicked':
      return { kind: 'record', state: 'crashed', reason: 'panicked', event: { type: 'crashed', detail: 'panicked' }, why: 'crashed' };
    case 'suspended':
      return { kind: 'record', state: 'pmsuspended', reason: 'unknown', event: { type: 'pmsuspended', detail: 'memory' }, why: 'was suspended by the guest' };
    default: {
      const reason = pausedReasonOf(qemu.status);
      return { kind: 'record', state: 'paused', reason, event: { type: 'suspended', detail: suspendedDetailOf(reason) }, why: `was paused (${reason})` };
    }
  }
}
