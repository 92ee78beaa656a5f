import { connect as netConnect, type Socket } from 'node:net';
import { VirtError } from '@virtkit/core';
import { toJson, type JsonValue } from '../command/json.js';
import { monitorOwner, QmpCommandError } from './errors.js';
import type { KnownQmpEventName, QmpCloseInfo, QmpEvent, QmpEventDataMap, QmpGreeting } from './types.js';

export interface QmpConnectOptions {
  /** Domain name for error messages. */
  domain?: string;
  /** Longest wait for the connection, the greeting and `qmp_capabilities` together (default 10 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface QmpExecuteOptions {
  /** Fail with OPERATION_TIMEOUT when no reply came in time; the late reply is dropped. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type QmpEventListener<N extends string = string> = (event: QmpEvent<N>) => void;

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  cleanup?: () => void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A QMP connection: greeting and capabilities negotiation, commands with ids
 * (any number in flight; QEMU answers them in order), asynchronous events
 * fanned out to listeners, and a clear failure of every pending call when
 * QEMU goes away.
 */
export class QmpClient {
  readonly domain: string | undefined;
  readonly greeting: QmpGreeting;
  /** Called when an event listener throws; delivery to the others goes on. */
  onListenerError: (err: unknown, event: QmpEvent) => void = () => {};

  private readonly socket: Socket;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Map<string, Set<QmpEventListener>>();
  private readonly closeListeners = new Set<(info: QmpCloseInfo) => void>();
  private nextId = 1;
  /** Idle: no job uses the monitor, so it must not keep Node running (pending replies still do). */
  private idle = false;
  private buffer = '';
  /** Where to resume looking for a newline, so a long reply read in many chunks is scanned once. */
  private scanFrom = 0;
  private closeInfo: QmpCloseInfo | undefined;
  private lastShutdown: QmpEventDataMap['SHUTDOWN'] | undefined;
  private readonly closedPromise: Promise<QmpCloseInfo>;
  private resolveClosed!: (info: QmpCloseInfo) => void;

  private constructor(socket: Socket, greeting: QmpGreeting, domain: string | undefined, leftover: string) {
    this.socket = socket;
    this.greeting = greeting;
    this.domain = domain;
    this.buffer = leftover;
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.finish({ by: 'error', error: err }));
    socket.on('close', () => this.finish({ by: 'peer' }));
    if (leftover.includes('\n')) this.onData('');
  }

  /**
   * Connects to a monitor socket, reads the greeting and negotiates
   * capabilities. Fails with OPERATION_FAILED when nothing listens there or
   * the peer closes, OPERATION_TIMEOUT when it does not answer in time.
   */
  static async connect(path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const owner = monitorOwner(options.domain);
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const socket = netConnect(path);
    socket.setEncoding('utf8');
    let client: QmpClient | undefined;
    try {
      const { greeting, leftover } = await readGreeting(socket, owner, path, timeoutMs, options.signal);
      client = new QmpClient(socket, greeting, options.domain, leftover);
      await client.execute('qmp_capabilities', undefined, { timeoutMs, signal: options.signal });
      return client;
    } catch (err) {
      socket.destroy();
      if (client) client.finish({ by: 'error', error: err as Error });
      throw err;
    }
  }

  get isOpen(): boolean {
    return this.closeInfo === undefined;
  }

  /**
   * Marks the connection idle (kept for the next job, but a CLI whose work
   * is done exits at once instead of waiting for it to close) or in use.
   */
  setIdle(idle: boolean): void {
    this.idle = idle;
    this.holdProcess();
  }

  private holdProcess(): void {
    if (this.idle && this.pending.size === 0) this.socket.unref();
    else this.socket.ref();
  }

  /** Resolves once the connection is gone, with who ended it. */
  get closed(): Promise<QmpCloseInfo> {
    return this.closedPromise;
  }

  /** Runs a command; resolves with its `return` value. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options: QmpExecuteOptions = {}): Promise<T> {
    if (this.closeInfo) return Promise.reject(this.closedError(command));
    if (options.signal?.aborted) return Promise.reject(abortError(command, this.domain));
    const id = `virtkit-${this.nextId++}`;
    const msg: Record<string, unknown> = { execute: command, id };
    if (args !== undefined) msg.arguments = args;
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { command, resolve: resolve as (v: unknown) => void, reject };
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.dropPending(id, abortError(command, this.domain));
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.dropPending(
            id,
            new VirtError('OPERATION_TIMEOUT', `${monitorOwner(this.domain)} did not answer '${command}' within ${options.timeoutMs} ms`, {
              origin: 'qemu',
            }),
          );
        }, options.timeoutMs);
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      entry.cleanup = () => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(id, entry);
      if (this.idle && this.pending.size === 1) this.socket.ref();
      // toJson: 64-bit values (a disk's WWN) travel as bigints.
      this.socket.write(toJson(msg as JsonValue) + '\n');
    });
  }

  /** Listens for one event name, or `*` for all; returns the unsubscribe function. */
  on<N extends KnownQmpEventName>(event: N, listener: QmpEventListener<N>): () => void;
  on(event: string, listener: QmpEventListener): () => void;
  on(event: string, listener: QmpEventListener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
    };
  }

  /** Called once when the connection ends (at once if it already has). */
  onClose(listener: (info: QmpCloseInfo) => void): () => void {
    if (this.closeInfo) {
      listener(this.closeInfo);
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => {
      this.closeListeners.delete(listener);
    };
  }

  /**
   * Resolves with the next event of that name that passes `match`. Register
   * it before running the command that causes the event, so it is not missed.
   * Fails when the connection closes first or after `timeoutMs`.
   */
  waitForEvent<N extends KnownQmpEventName>(
    event: N,
    options?: { match?: (e: QmpEvent<N>) => boolean; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<QmpEvent<N>>;
  waitForEvent(event: string, options?: { match?: (e: QmpEvent) => boolean; timeoutMs?: number; signal?: AbortSignal }): Promise<QmpEvent>;
  waitForEvent(event: string, options: { match?: (e: QmpEvent) => boolean; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        off();
        offClose();
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const off = this.on(event, (e) => {
        if (options.match && !options.match(e)) return;
        done();
        resolve(e);
      });
      const offClose = this.onClose(() => {
        done();
        reject(this.closedError(`waiting for event ${event}`));
      });
      const onAbort = () => {
        done();
        reject(abortError(`waiting for event ${event}`, this.domain));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(new VirtError('OPERATION_TIMEOUT', `${monitorOwner(this.domain)}: no ${event} event within ${options.timeoutMs} ms`, { origin: 'qemu' }));
        }, options.timeoutMs);
      }
    });
  }

  /** Closes the connection; pending calls fail with OPERATION_ABORTED. QEMU keeps running. */
  async close(): Promise<void> {
    if (this.closeInfo) return;
    this.finish({ by: 'local' });
    this.socket.end();
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n', this.scanFrom)) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      this.scanFrom = 0;
      if (line === '') continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        const err = new VirtError('OPERATION_FAILED', `${monitorOwner(this.domain)} sent malformed JSON: ${line.slice(0, 200)}`, { origin: 'qemu' });
        this.finish({ by: 'error', error: err });
        this.socket.destroy();
        return;
      }
      this.dispatch(msg);
      if (this.closeInfo) return;
    }
    this.scanFrom = this.buffer.length;
  }

  private dispatch(msg: Record<string, unknown>): void {
    if (typeof msg.event === 'string') {
      const event = msg as unknown as QmpEvent;
      if (event.data === undefined) (event as { data: unknown }).data = {};
      if (event.event === 'SHUTDOWN') this.lastShutdown = event.data as QmpEventDataMap['SHUTDOWN'];
      this.emit(event);
      return;
    }
    if (!('return' in msg) && !('error' in msg)) return; // a second greeting or something newer: ignore
    let id = typeof msg.id === 'string' ? msg.id : undefined;
    // Replies without an id answer requests QEMU could not parse; ours are
    // always well-formed, so blame the oldest pending one.
    if (id === undefined) id = this.pending.keys().next().value;
    if (id === undefined) return;
    const entry = this.pending.get(id);
    if (!entry) return; // timed out or aborted earlier
    this.pending.delete(id);
    entry.cleanup?.();
    if (this.idle && this.pending.size === 0) this.socket.unref();
    if ('error' in msg) {
      const e = (msg.error ?? {}) as { class?: unknown; desc?: unknown };
      entry.reject(new QmpCommandError(entry.command, String(e.class ?? 'GenericError'), String(e.desc ?? 'unknown error'), this.domain));
    } else {
      entry.resolve(msg.return);
    }
  }

  private emit(event: QmpEvent): void {
    for (const key of [event.event, '*']) {
      const set = this.listeners.get(key);
      if (!set) continue;
      for (const l of [...set]) {
        try {
          l(event);
        } catch (err) {
          this.onListenerError(err, event);
        }
      }
    }
  }

  private dropPending(id: string, err: Error): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    entry.cleanup?.();
    if (this.idle && this.pending.size === 0) this.socket.unref();
    entry.reject(err);
  }

  private closedError(command: string): VirtError {
    const info = this.closeInfo;
    const owner = monitorOwner(this.domain);
    if (info?.by === 'local') {
      return new VirtError('OPERATION_ABORTED', `${owner} was closed while '${command}' was pending`, { origin: 'qemu' });
    }
    const why = info?.error ? `: ${info.error.message}` : '';
    const exit = this.lastShutdown ? ` after SHUTDOWN (${this.lastShutdown.reason})` : ' (QEMU exited or was killed)';
    return new VirtError('OPERATION_FAILED', `${owner} closed the connection while '${command}' was pending${exit}${why}`, {
      origin: 'qemu',
      cause: info?.error,
    });
  }

  private finish(info: QmpCloseInfo): void {
    if (this.closeInfo) return;
    this.closeInfo = { ...info, lastShutdown: this.lastShutdown };
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.cleanup?.();
      p.reject(this.closedError(p.command));
    }
    for (const l of [...this.closeListeners]) {
      try {
        l(this.closeInfo);
      } catch {
        // a close listener must not stop the others
      }
    }
    this.closeListeners.clear();
    this.resolveClosed(this.closeInfo);
  }
}

function abortError(what: string, domain: string | undefined): VirtError {
  return new VirtError('OPERATION_ABORTED', `${monitorOwner(domain)}: '${what}' was aborted`, { origin: 'qemu' });
}

/** Waits for the `{"QMP": …}` line; returns it and whatever followed in the same read. */
function readGreeting(
  socket: Socket,
  owner: string,
  path: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ greeting: QmpGreeting; leftover: string }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: VirtError) => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 1 << 20) fail(new VirtError('OPERATION_FAILED', `${owner} at ${path} sent no greeting line`, { origin: 'qemu' }));
        return;
      }
      const line = buf.slice(0, nl);
      let msg: { QMP?: QmpGreeting };
      try {
        msg = JSON.parse(line) as { QMP?: QmpGreeting };
      } catch {
        return fail(new VirtError('OPERATION_FAILED', `${owner} at ${path} is not a QMP monitor: ${line.slice(0, 120)}`, { origin: 'qemu' }));
      }
      if (!msg.QMP) return fail(new VirtError('OPERATION_FAILED', `${owner} at ${path} did not send a QMP greeting`, { origin: 'qemu' }));
      cleanup();
      resolve({ greeting: msg.QMP, leftover: buf.slice(nl + 1) });
    };
    const onError = (err: NodeJS.ErrnoException) => {
      fail(new VirtError('OPERATION_FAILED', `cannot connect to the ${owner} at ${path}: ${err.code ?? err.message}`, { origin: 'qemu', cause: err }));
    };
    const onClose = () => fail(new VirtError('OPERATION_FAILED', `${owner} at ${path} closed the connection before its greeting (QEMU exited?)`, { origin: 'qemu' }));
    const onAbort = () => fail(new VirtError('OPERATION_ABORTED', `connecting to the ${owner} was aborted`, { origin: 'qemu' }));
    const timer = setTimeout(
      () => fail(new VirtError('OPERATION_TIMEOUT', `${owner} at ${path} sent no greeting within ${timeoutMs} ms`, { origin: 'qemu' })),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    if (signal) {
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}
