import { VirtError } from '@virtkit/core';
import type { QmpClient } from '../qmp/client.js';
import { outsideLocks } from './locks.js';
import { checkQemuIdentity, QemuProcess, type QemuExitInfo, type QemuRuntimeState } from '../process/qemu-process.js';

/** Called once per QEMU run when this process notices that it ended. */
export type ExitListener = (state: QemuRuntimeState, info: QemuExitInfo) => void;

interface Entry {
  proc: QemuProcess;
  listeners: Set<ExitListener>;
  /** Closes the monitor when no job used it for MONITOR_IDLE_MS. */
  idle?: NodeJS.Timeout;
}

/**
 * How long a monitor stays connected after a job of this process, for the
 * next job to reuse (back-to-back calls of an API program skip the QMP
 * handshake). Another process's job meanwhile waits at most this long for
 * the monitor (QEMU serves one monitor client at a time).
 */
export const MONITOR_IDLE_MS = 100;

const runKey = (s: Pick<QemuRuntimeState, 'pid' | 'startTime'>) => `${s.pid}:${s.startTime}`;

/**
 * The QEMU processes this Node process knows: the ones it started (it is
 * their parent and hears their exit at once) and the ones it attached to.
 * Shared by every connection of the process, so two connections to one URI
 * use one object per guest.
 *
 * Monitor ownership (DESIGN.md): a job connects to the monitor, works and
 * lets it go, so the next process can connect; a monitor left idle for
 * MONITOR_IDLE_MS is closed, so between jobs nobody holds it for long. Exits are still noticed: by the child's exit event, or for attached
 * guests by a cheap pid check every second.
 */
class MonitorRegistry {
  private readonly byRun = new Map<string, Entry>();

  /** Registers a QEMU this process just launched. */
  adopt(proc: QemuProcess): void {
    this.entry(proc);
  }

  private entry(proc: QemuProcess): Entry {
    const key = runKey(proc.state);
    let e = this.byRun.get(key);
    if (e) return e;
    e = { proc, listeners: new Set() };
    this.byRun.set(key, e);
    const entry = e;
    void proc.exited.then((info) => {
      if (this.byRun.get(key) === entry) this.byRun.delete(key);
      for (const l of entry.listeners) {
        try {
          outsideLocks(() => l(proc.state, info));
        } catch {
          /* a listener's failure is its own */
        }
      }
    });
    return e;
  }

  /** The process object of a saved run, attached (and its monitor connected) when needed. */
  async open(state: QemuRuntimeState, opts: { timeoutMs?: number } = {}): Promise<QemuProcess> {
    const e = this.byRun.get(runKey(state));
    if (e && !e.proc.hasExited) {
      if (e.idle) {
        clearTimeout(e.idle);
        e.idle = undefined;
      }
      if (!e.proc.isChild && !e.proc.qmp?.isOpen) {
        const gone = await checkQemuIdentity(state);
        if (gone) throw new VirtError('OPERATION_FAILED', `domain '${state.name}': QEMU is not running (${gone})`, { origin: 'qemu' });
      }
      await e.proc.connectMonitor(opts.timeoutMs);
      e.proc.qmp?.setIdle(false);
      return e.proc;
    }
    const proc = await QemuProcess.attach(state, opts);
    this.entry(proc);
    return proc;
  }

  /** The monitor of a run for one job; call `release()` when the job is done. */
  async monitor(state: QemuRuntimeState, opts: { timeoutMs?: number } = {}): Promise<{ qmp: QmpClient; proc: QemuProcess; release: () => Promise<void> }> {
    const proc = await this.open(state, opts);
    const qmp = proc.qmp;
    if (!qmp) throw new VirtError('OPERATION_FAILED', `domain '${state.name}': the QEMU monitor closed`, { origin: 'qemu' });
    return { qmp, proc, release: async () => this.release(proc) };
  }

  /** A job is done with the monitor: it closes after MONITOR_IDLE_MS unless another job of this process takes it. */
  release(proc: QemuProcess): void {
    const e = this.byRun.get(runKey(proc.state));
    if (!e || e.proc !== proc) {
      void proc.close();
      return;
    }
    if (e.idle) clearTimeout(e.idle);
    proc.qmp?.setIdle(true);
    e.idle = setTimeout(() => {
      e.idle = undefined;
      void proc.close();
    }, MONITOR_IDLE_MS);
    e.idle.unref(); // neither the timer nor the idle socket keeps a CLI process alive: its monitor goes with it
  }

  /** The known process of a run, if any (no monitor, no checks). */
  known(state: Pick<QemuRuntimeState, 'pid' | 'startTime'>): QemuProcess | undefined {
    return this.byRun.get(runKey(state))?.proc;
  }

  /**
   * Calls `listener` when the run ends. An attached run without a watcher
   * gets one (pid check every second, not keeping Node alive).
   */
  async watch(state: QemuRuntimeState, listener: ExitListener): Promise<void> {
    let e = this.byRun.get(runKey(state));
    if (!e) {
      if (await checkQemuIdentity(state)) return; // already gone: the caller's own check finds it
      e = this.entry(QemuProcess.detached(state));
    }
    e.listeners.add(listener);
    e.proc.watch();
  }

  unwatch(listener: ExitListener): void {
    for (const e of this.byRun.values()) e.listeners.delete(listener);
  }
}

export const monitors = new MonitorRegistry();
