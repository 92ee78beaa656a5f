import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { socketDirFor, VirtError } from '@virtkit/core';
import { QmpClient } from '../qmp/client.js';
import type { QmpEventDataMap } from '../qmp/types.js';
import { DEFAULT_QEMU_BINARY, findQemuBinary } from './binary.js';
import { type LogExitReason, parseExitReason, quoteCommand, readLogSince } from './log.js';
import { processAlive, readProcCmdline, readProcStat, sendSignal } from './proc.js';

/** What a later process needs to find and re-attach to a running QEMU (saved in the runtime dir). */
export interface QemuRuntimeState {
  name: string;
  uuid: string;
  pid: number;
  /** /proc/<pid>/stat starttime: a recycled pid has another one. */
  startTime: number;
  binary: string;
  monitorPath: string;
  /** Inode of the monitor socket we created, so cleanup never removes a newer one. */
  monitorIno: number;
  pidfilePath: string;
  logPath: string;
  /** Where this run's output starts in the log. */
  logOffset: number;
}

export interface QemuLaunchOptions {
  /** Domain name (messages). */
  name: string;
  /** Domain UUID; must be on the command line (`-uuid`), added when missing: it is how the pid is recognised later. */
  uuid: string;
  /** The command line after the binary, without monitor, pidfile, -S or -daemonize. */
  args: readonly string[];
  /** Per-domain runtime folder: pidfile, monitor socket (or a short /tmp folder when too deep), log. */
  runDir: string;
  binary?: string;
  /** Default: <runDir>/qemu.log. Appended to, like libvirt's per-domain log. */
  logPath?: string;
  /** Leave the vCPUs paused after start (default: `cont`). */
  paused?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Longest wait for the monitor (default 30 s). */
  timeoutMs?: number;
  /**
   * Descriptors handed to QEMU as fd 4, 5, … (e.g. a saved state file for
   * `-incoming fd:4`). The caller closes them after launch.
   */
  extraFds?: readonly number[];
  /**
   * Called once QEMU is spawned with what identifies it, while QEMU is still
   * initialising; launch waits for it (and fails, killing QEMU, if it throws).
   */
  onSpawned?: (state: QemuRuntimeState) => Promise<void> | void;
  /**
   * The args already hold the monitor (`-chardev socket,id=charmonitor,fd=3,…`
   * and `-mon`), as the command line builder writes them: do not add them.
   */
  monitorInArgs?: boolean;
}

export type QemuExitCause = 'shutdown' | 'destroyed' | 'crashed';

export interface QemuExitInfo {
  /** `shutdown`: the guest or a QMP `quit` ended it; `destroyed`: we killed it; `crashed`: anything else. */
  cause: QemuExitCause;
  /** Exit status and signal, when this process was QEMU's parent. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The SHUTDOWN event seen before the exit, if any. */
  shutdown?: QmpEventDataMap['SHUTDOWN'];
  log: LogExitReason;
  /** One line for messages. */
  reason: string;
}

export interface DestroyOptions {
  /** How long SIGTERM may take before SIGKILL (default 1000 ms; QEMU normally exits in a few ms). */
  graceMs?: number;
}

const MONITOR_NAME = 'monitor.sock';

/** Why a saved QEMU is not (or no longer) the one we started. */
export async function checkQemuIdentity(state: Pick<QemuRuntimeState, 'pid' | 'startTime' | 'uuid'>): Promise<string | undefined> {
  const st = await readProcStat(state.pid);
  if (!st) return `process ${state.pid} does not exist`;
  if (st.state === 'Z' || st.state === 'X') return `process ${state.pid} has exited`;
  if (state.startTime && st.startTicks !== state.startTime) return `pid ${state.pid} now belongs to another process`;
  const argv = await readProcCmdline(state.pid);
  if (!argv || !argv.some((a) => a.includes(state.uuid))) return `pid ${state.pid} is not the QEMU of uuid ${state.uuid}`;
  return undefined;
}

/**
 * One QEMU process, started here (we are its parent) or re-attached from
 * saved state. QEMU runs in its own session with its output in the log and
 * outlives this Node process; `close()` only drops the monitor connection.
 */
export class QemuProcess {
  readonly state: QemuRuntimeState;
  /** The QMP connection; undefined once closed. */
  qmp: QmpClient | undefined;
  /** Resolves once QEMU has exited, with why. */
  readonly exited: Promise<QemuExitInfo>;

  private readonly child: ChildProcess | undefined;
  private childExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private destroying = false;
  private lastShutdown: QmpEventDataMap['SHUTDOWN'] | undefined;
  private resolveExited!: (info: QemuExitInfo) => void;
  private exitInfo: QemuExitInfo | undefined;
  private watching = false;
  /** Longest pause between pid checks of a watched, non-child QEMU. */
  private maxPollMs = Number.POSITIVE_INFINITY;
  private wakePoll: (() => void) | undefined;

  private constructor(state: QemuRuntimeState, child: ChildProcess | undefined) {
    this.state = state;
    this.child = child;
    this.exited = new Promise((r) => (this.resolveExited = r));
    if (child) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.childExit = { code: child.exitCode, signal: child.signalCode };
        queueMicrotask(() => void this.finalize());
      } else child.once('exit', (code, signal) => {
        this.childExit = { code, signal };
        void this.finalize();
      });
    }
  }

  get pid(): number {
    return this.state.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /**
   * Starts QEMU paused (-S) with its monitor on a socket we bind first and
   * pass as fd 3, so the QMP connection is made at once with no polling;
   * then `cont` unless `paused`. Fails with OPERATION_FAILED and QEMU's own
   * error text when it exits during startup.
   */
  static async launch(options: QemuLaunchOptions): Promise<QemuProcess> {
    const sockDir = socketDirFor(options.runDir, MONITOR_NAME.length + 16);
    const binary = await findQemuBinary(options.binary ?? DEFAULT_QEMU_BINARY, options.env ?? process.env);
    // Local folders and files: synchronous calls, cheaper than thread-pool round trips.
    mkdirSync(options.runDir, { recursive: true, mode: 0o700 });
    if (sockDir !== options.runDir) mkdirSync(sockDir, { recursive: true, mode: 0o700 });
    const monitorPath = join(sockDir, MONITOR_NAME);
    const pidfilePath = join(options.runDir, 'qemu.pid');
    const logPath = options.logPath ?? join(options.runDir, 'qemu.log');

    const args = [...options.args];
    if (!args.some((a) => a.includes(options.uuid))) args.push('-uuid', options.uuid);
    if (!options.monitorInArgs) {
      args.push('-chardev', 'socket,id=charmonitor,fd=3,server=on,wait=off', '-mon', 'chardev=charmonitor,id=monitor,mode=control');
    }
    args.push('-pidfile', pidfilePath);
    if (!args.includes('-S')) args.push('-S');

    const server = await listenUnix(`${monitorPath}.${process.pid}.tmp`);
    let logFd: number | undefined;
    let child: ChildProcess | undefined;
    let monitorIno = 0;
    let logOffset = 0;
    try {
      // libvirt's trick without the daemon: the socket exists and listens
      // before QEMU starts, so connecting never races QEMU's startup.
      renameSync(`${monitorPath}.${process.pid}.tmp`, monitorPath);
      monitorIno = statSync(monitorPath).ino;
      logFd = openSync(logPath, 'a', 0o600);
      writeSync(logFd, `${new Date().toISOString()}: starting up\n${quoteCommand([binary, ...args])}\n`);
      logOffset = fstatSync(logFd).size;
      child = spawn(binary, args, {
        detached: true, // own session: no SIGHUP or ^C from ours, survives our exit
        stdio: ['ignore', logFd, logFd, serverFd(server), ...(options.extraFds ?? [])],
        env: options.env ?? process.env,
      });
    } finally {
      if (logFd !== undefined) closeSync(logFd);
      server.close(); // QEMU holds its own copy of the listening socket now
    }
    // Connect at once: the listening socket is ours, the greeting comes when
    // QEMU's main loop runs; checking the spawn meanwhile costs nothing.
    const abortConnect = new AbortController();
    const connecting = QmpClient.connect(monitorPath, { domain: options.name, timeoutMs: options.timeoutMs ?? 30_000, signal: abortConnect.signal });
    connecting.catch(() => {});
    const spawnError = await Promise.race([once(child, 'spawn').then(() => undefined), once(child, 'error').then(([e]) => e as Error)]);
    if (spawnError || child.pid === undefined) {
      abortConnect.abort();
      await unlink(monitorPath).catch(() => {});
      throw new VirtError('OPERATION_FAILED', `domain '${options.name}': cannot start ${binary}: ${spawnError?.message ?? 'no pid'}`, {
        origin: 'qemu',
        cause: spawnError,
      });
    }
    const pid = child.pid;
    const st = await readProcStat(pid);
    const state: QemuRuntimeState = {
      name: options.name, uuid: options.uuid, pid, startTime: st?.startTicks ?? 0, binary, monitorPath, monitorIno,
      pidfilePath, logPath, logOffset,
    };
    const proc = new QemuProcess(state, child);
    // QEMU dying before its greeting must not leave the connect waiting for the timeout.
    void proc.exited.then(() => abortConnect.abort());
    try {
      // While QEMU initialises, the caller records the new process (so a crash of this process leaves no unknown QEMU).
      const [qmp] = await Promise.all([connecting, options.onSpawned?.(state)]);
      proc.useMonitor(qmp);
      if (!options.paused) await proc.qmp!.execute('cont');
      // From here on QEMU must not keep this process alive.
      child.unref();
    } catch (err) {
      child.unref();
      const info = await proc.exitedWithin(2000);
      if (!info) await proc.destroy().catch(() => {});
      if (info) {
        throw new VirtError('OPERATION_FAILED', `domain '${options.name}': QEMU exited while starting: ${info.reason}`, { origin: 'qemu', cause: err });
      }
      throw err;
    }
    return proc;
  }

  /**
   * Re-attaches to a QEMU started earlier (maybe by another process) from
   * its saved state, after checking the pid is still that QEMU. Fails with
   * OPERATION_FAILED when it is gone.
   */
  static async attach(state: QemuRuntimeState, options: { timeoutMs?: number } = {}): Promise<QemuProcess> {
    const gone = await checkQemuIdentity(state);
    if (gone) {
      const log = parseExitReason(await readLogSince(state.logPath, state.logOffset));
      throw new VirtError('OPERATION_FAILED', `domain '${state.name}': QEMU is not running (${gone}); last log: ${log.summary}`, { origin: 'qemu' });
    }
    const proc = new QemuProcess(state, undefined);
    await proc.connect(options.timeoutMs ?? 10_000);
    return proc;
  }

  /** Is the saved QEMU still running? Never mistakes a recycled pid for it. */
  static async isRunning(state: QemuRuntimeState): Promise<boolean> {
    return (await checkQemuIdentity(state)) === undefined;
  }

  /**
   * Kills QEMU: SIGTERM, then SIGKILL after `graceMs`. Before each signal the
   * pid is checked to still be this QEMU, so a recycled pid is never hit.
   */
  async destroy(options: DestroyOptions = {}): Promise<QemuExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.destroying = true;
    this.watchExit();
    // Our own child that has not exited still owns its pid (it is not reaped
    // before the exit event): no identity check needed, and none is paid.
    if (this.child && this.childExit === undefined) sendSignal(this.state.pid, 'SIGTERM');
    else if ((await checkQemuIdentity(this.state)) === undefined) sendSignal(this.state.pid, 'SIGTERM');
    else await this.finalize();
    const graceMs = options.graceMs ?? 1000;
    let info = await this.exitedWithin(graceMs);
    if (!info) {
      if ((await checkQemuIdentity(this.state)) === undefined) sendSignal(this.state.pid, 'SIGKILL');
      info = await this.exitedWithin(5000);
      if (!info) throw new VirtError('OPERATION_TIMEOUT', `domain '${this.state.name}': QEMU (pid ${this.state.pid}) did not die after SIGKILL`, { origin: 'qemu' });
    }
    return info;
  }

  /** Connects the monitor again after close() (another job of the same process). */
  async connectMonitor(timeoutMs = 10_000): Promise<QmpClient> {
    if (this.exitInfo) throw new VirtError('OPERATION_FAILED', `domain '${this.state.name}': QEMU is not running (${this.exitInfo.reason})`, { origin: 'qemu' });
    if (!this.qmp || !this.qmp.isOpen) await this.connect(timeoutMs);
    return this.qmp!;
  }

  /** Whether this process is QEMU's parent (its exit is then reported without polling). */
  get isChild(): boolean {
    return this.child !== undefined;
  }

  /**
   * A process object for a saved run without connecting its monitor (for
   * watching the pid, or connecting later with connectMonitor()).
   */
  static detached(state: QemuRuntimeState): QemuProcess {
    return new QemuProcess(state, undefined);
  }

  /**
   * Starts noticing the exit of an attached QEMU by checking its pid, at
   * least every `maxDelayMs` (timers do not keep Node alive). A child's exit
   * is reported by its exit event anyway.
   */
  watch(maxDelayMs = 1000): void {
    this.watchExit(maxDelayMs);
  }

  /** Drops the monitor connection; QEMU keeps running. */
  async close(): Promise<void> {
    const q = this.qmp;
    this.qmp = undefined;
    await q?.close();
  }

  private async connect(timeoutMs: number): Promise<void> {
    this.useMonitor(await QmpClient.connect(this.state.monitorPath, { domain: this.state.name, timeoutMs }));
  }

  private useMonitor(qmp: QmpClient): void {
    this.qmp = qmp;
    qmp.on('SHUTDOWN', (e) => (this.lastShutdown = e.data));
    qmp.onClose((info) => {
      if (info.by === 'local') return;
      // The monitor closing is the fast sign of an exit; the pid confirms it.
      this.watchExit();
    });
  }

  /** Resolves with the exit info if QEMU exits within `ms`, else undefined. */
  private async exitedWithin(ms: number): Promise<QemuExitInfo | undefined> {
    this.watchExit();
    // A referenced timer: while someone waits for the exit, Node must not
    // quit just because QEMU (an unref'd child) is the only thing left.
    const ac = new AbortController();
    try {
      return await Promise.race([this.exited, sleep(ms, undefined, { signal: ac.signal })]);
    } finally {
      ac.abort();
    }
  }

  /** Starts noticing the exit: our child's exit event, else polling the pid with a short backoff. */
  private watchExit(maxDelayMs = 50): void {
    if (this.child || this.exitInfo) return; // a child's 'exit' event will come
    if (maxDelayMs < this.maxPollMs) {
      this.maxPollMs = maxDelayMs;
      this.wakePoll?.(); // a slow background watch becomes a fast one at once
    }
    if (this.watching) return;
    this.watching = true;
    void (async () => {
      let delay = 1;
      while (!this.exitInfo) {
        if (!(await processAlive(this.state.pid)) || (await checkQemuIdentity(this.state)) !== undefined) break;
        const woken = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), delay);
          t.unref();
          this.wakePoll = () => {
            clearTimeout(t);
            resolve(true);
          };
        });
        this.wakePoll = undefined;
        delay = woken ? 1 : Math.min(delay * 2, this.maxPollMs);
      }
      await this.finalize();
    })();
  }

  private async finalize(): Promise<void> {
    if (this.exitInfo) return;
    // A destroy needs no explanation from the log (and reading it costs a few file operations).
    const log = this.destroying ? { errors: [], summary: 'destroyed' } : parseExitReason(await readLogSince(this.state.logPath, this.state.logOffset));
    if (this.exitInfo) return;
    // Without a monitor, the traced shutdown request (if any) says why QEMU ended.
    const shutdown = this.lastShutdown ?? (log.shutdownRequest ? { guest: log.shutdownRequest.guest, reason: log.shutdownRequest.cause } : undefined);
    let cause: QemuExitCause;
    if (this.destroying) cause = 'destroyed';
    else if (shutdown) cause = 'shutdown';
    else cause = 'crashed';
    const code = this.childExit?.code ?? null;
    const signal = this.childExit?.signal ?? null;
    let reason: string;
    if (cause === 'destroyed') reason = 'destroyed';
    else if (shutdown) reason = `shutdown (${shutdown.reason})`;
    else if (log.errors.length > 0 || log.signal) reason = log.summary;
    else if (signal) reason = `killed by ${signal}`;
    else if (code !== null) reason = `exited with status ${code}`;
    else reason = 'QEMU exited (no reason in its log)';
    this.exitInfo = { cause, code, signal, shutdown, log, reason };
    await this.removeMonitorSocket();
    void this.qmp?.close();
    this.resolveExited(this.exitInfo);
  }

  private async removeMonitorSocket(): Promise<void> {
    try {
      if (statSync(this.state.monitorPath).ino === this.state.monitorIno) unlinkSync(this.state.monitorPath);
    } catch {
      // already gone
    }
  }
}

/** The listening socket's descriptor, to hand to QEMU as fd 3 (Node has no public accessor). */
function serverFd(server: Server): number {
  const fd = (server as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new VirtError('INTERNAL_ERROR', 'cannot get the descriptor of the monitor socket', { origin: 'qemu' });
  return fd;
}

function listenUnix(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err) => reject(new VirtError('SYSTEM_ERROR', `cannot create the monitor socket ${path}: ${err.message}`, { origin: 'qemu', cause: err })));
    server.listen({ path, backlog: 8 }, () => resolve(server));
  });
}
