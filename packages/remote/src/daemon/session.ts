import type { Duplex, Readable } from 'node:stream';
import { VirtError, type Connection, type JobContext, type JobProgress, type VirtEvent } from '@virtkit/core';
import { checkArgs, kindOf } from '../protocol/args.js';
import { encodeJsonFrame, FrameType, frameTypeName, type Frame } from '../protocol/frame.js';
import { acceptHello } from '../protocol/hello.js';
import { Peer } from '../protocol/peer.js';
import { MAX_FRAME, MAX_HELLO_FRAME, PROCEDURES, proceduresOf, type OpenReply, type Procedure, type Target } from '../protocol/schema.js';
import { WireStream } from '../protocol/wire-stream.js';
import type { Daemon } from './daemon.js';
import { resolveServedUri } from './connections.js';
import { MigrationLeases } from './migration-leases.js';

/** How a client reached the daemon. */
export type Access = 'unix' | 'unix-ro' | 'tls' | 'tcp' | 'stdio';

export interface SessionInfo {
  access: Access;
  /** Socket path, `address:port`, or `stdio`. */
  peer: string;
  /** The listener gives read-only access. */
  readonly: boolean;
  /** TLS client certificate subject, when there is one. */
  identity?: string;
}

/** Stop reading a client's calls while this much is queued to it. */
const QUEUE_HIGH = 1024 * 1024;
/** Progress frames of one job: at most one per this many ms (plus the last). */
const PROGRESS_EVERY_MS = 100;

const TARGETS: Target[] = ['host', 'domains', 'networks', 'storage', 'interfaces'];

function toVirtError(err: unknown, proc: string): VirtError {
  if (err instanceof VirtError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new VirtError('INTERNAL_ERROR', `${proc}: ${msg}`, { origin: 'virtkitd', cause: err });
}

/**
 * One client of the daemon: its handshake, its open driver connection,
 * its calls in flight (checked against the procedure table, refused when
 * read-only, serialised by job locks), its streams, jobs and events.
 */
export class ClientSession {
  readonly peer: Peer;
  private state: 'hello' | 'ready' | 'closed' = 'hello';
  private conn?: Connection;
  private release?: () => void;
  private unsubscribe?: () => void;
  private readonlySession: boolean;
  private inFlight = 0;
  private readPaused = false;
  private readonly jobs = new Map<number, AbortController>();
  /** Sends a job's pending progress at once (before its reply). */
  private readonly progressFlush = new Map<number, () => void>();
  private readonly handshakeTimer: NodeJS.Timeout;
  /** Incoming migrations this client prepared and has not finished. */
  private readonly leases = new MigrationLeases();
  servedUri?: string;

  constructor(
    private readonly daemon: Daemon,
    readonly id: number,
    socket: Duplex,
    readonly info: SessionInfo,
  ) {
    const cfg = daemon.config;
    this.readonlySession = info.readonly;
    this.peer = new Peer(socket, {
      maxFrame: MAX_HELLO_FRAME,
      keepaliveIntervalMs: cfg.keepaliveInterval * 1000,
      keepaliveCount: cfg.keepaliveCount,
      label: `client ${id} (${info.access} ${info.peer})`,
    });
    this.peer.onFrame = (f) => this.onFrame(f);
    this.peer.onProtocolError = (err) => this.refuse('protocol error', { error: err.message });
    this.peer.onClose((reason) => this.onClosed(reason));
    this.handshakeTimer = setTimeout(() => {
      if (this.state !== 'hello') return;
      this.refuse('no handshake within the timeout', { timeoutSeconds: cfg.handshakeTimeout });
      this.peer.close(new VirtError('RPC', `no handshake within ${cfg.handshakeTimeout} s`, { origin: 'virtkitd' }));
    }, cfg.handshakeTimeout * 1000);
    this.handshakeTimer.unref();
    socket.on('drain', () => this.maybeResume());
  }

  get isAnonymous(): boolean {
    return this.state === 'hello';
  }

  get readonly(): boolean {
    return this.readonlySession;
  }

  private fields(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      client: this.id,
      access: this.info.access,
      peer: this.info.peer,
      ...(this.info.identity ? { identity: this.info.identity } : {}),
      ...(this.servedUri ? { uri: this.servedUri } : {}),
      ...extra,
    };
  }

  /** Logs a refused attempt (every one is logged). */
  refuse(reason: string, extra: Record<string, unknown> = {}): void {
    this.daemon.log.warn('refused', this.fields({ reason, ...extra }));
  }

  // ------------------------------------------------------------ frames

  private onFrame(f: Frame): void {
    if (this.state === 'hello') {
      this.onHello(f);
      return;
    }
    switch (f.type) {
      case FrameType.CALL:
        this.onCall(f);
        return;
      case FrameType.CANCEL:
        this.jobs.get(f.id)?.abort(new VirtError('OPERATION_ABORTED', 'cancelled by the client', { origin: 'virtkitd' }));
        return;
      default:
        this.refuse('unexpected frame', { frame: frameTypeName(f.type) });
        this.sendError(f.id, new VirtError('RPC', `unexpected ${frameTypeName(f.type)} frame from a client`, { origin: 'virtkitd' }));
    }
  }

  private onHello(f: Frame): void {
    try {
      if (f.type !== FrameType.HELLO) throw new VirtError('RPC', `expected a handshake, got a ${frameTypeName(f.type)} frame`, { origin: 'virtkitd' });
      const { version, hello } = acceptHello(Peer.json(f, 'handshake'), `client ${this.id}`);
      clearTimeout(this.handshakeTimer);
      this.state = 'ready';
      this.peer.decoder.maxFrame = MAX_FRAME;
      this.peer.sendJson(FrameType.HELLO, 0, { magic: 'virtkit', versions: [version], software: this.daemon.software, readonly: this.info.readonly });
      this.daemon.log.info('client connected', this.fields({ software: String(hello.software ?? '') }));
    } catch (err) {
      const ve = toVirtError(err, 'handshake');
      this.refuse(ve.message);
      this.peer.sendJson(FrameType.ERROR, 0, ve.toJSON());
      this.peer.close(ve);
    }
  }

  private onCall(f: Frame): void {
    let proc = '?';
    let args: unknown;
    try {
      const body = Peer.json(f, 'call') as { p?: unknown; a?: unknown } | null;
      if (!body || typeof body !== 'object' || typeof body.p !== 'string') {
        throw new VirtError('RPC', 'malformed call message: it names no procedure', { origin: 'virtkitd' });
      }
      proc = body.p;
      args = body.a ?? [];
    } catch (err) {
      this.refuse('malformed call', { error: (err as Error).message });
      this.sendError(f.id, toVirtError(err, 'call'));
      return;
    }
    this.inFlight++;
    if (this.inFlight >= this.daemon.config.maxClientRequests) this.pauseReading();
    this.dispatch(f.id, proc, args).then(
      () => this.callDone(),
      (err: unknown) => {
        this.sendError(f.id, toVirtError(err, proc));
        this.callDone();
      },
    );
  }

  private callDone(): void {
    this.inFlight--;
    this.maybeResume();
  }

  private pauseReading(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    this.peer.socket.pause();
  }

  private maybeResume(): void {
    if (!this.readPaused || this.state === 'closed') return;
    if (this.inFlight < this.daemon.config.maxClientRequests && this.peer.queuedBytes < QUEUE_HIGH) {
      this.readPaused = false;
      this.peer.socket.resume();
    }
  }

  /** Sends a frame and watches the client's queue: one that does not read is paused, then dropped. */
  private send(frame: Buffer): void {
    if (this.state === 'closed') return;
    this.peer.send(frame);
    const queued = this.peer.queuedBytes;
    if (queued > this.daemon.config.maxClientQueueBytes) {
      this.refuse('client does not read its replies and events; dropped', { queuedBytes: queued });
      this.peer.socket.destroy();
      return;
    }
    if (queued > QUEUE_HIGH) this.pauseReading();
  }

  private sendError(id: number, err: VirtError): void {
    this.send(encodeJsonFrame(FrameType.ERROR, id, err.toJSON()));
  }

  // ------------------------------------------------------------ calls

  private async dispatch(id: number, name: string, rawArgs: unknown): Promise<void> {
    if (name === 'connect.open') return this.open(id, rawArgs);
    if (name === 'connect.close') {
      this.closeDriver();
      this.send(encodeJsonFrame(FrameType.REPLY, id, { r: null }));
      return;
    }
    const proc = PROCEDURES.get(name);
    if (!proc) {
      this.refuse('unknown procedure', { proc: name.slice(0, 128) });
      throw new VirtError('NO_SUPPORT', `unknown procedure '${name.slice(0, 128)}' (this daemon speaks protocol version 1)`, { origin: 'virtkitd' });
    }
    const conn = this.conn;
    if (!conn) throw new VirtError('INVALID_CONN', `${name}: no driver is open on this connection (call connect.open first)`, { origin: 'virtkitd' });
    if (proc.modify && this.readonlySession) {
      this.refuse('change on a read-only connection', { proc: name });
      throw new VirtError('OPERATION_DENIED', `read only access prevents ${name}`, { origin: 'virtkitd' });
    }
    const target = this.targetOf(conn, proc.target);
    const fn = target?.[proc.method];
    if (typeof fn !== 'function') {
      throw new VirtError('NO_SUPPORT', `${name}: not supported by the ${conn.driver.name} driver`, { origin: conn.driver.name });
    }
    const args = checkArgs(proc, rawArgs);
    const upload = this.prepareExtras(id, proc, args);
    try {
      const result = await conn.run(name, proc.modify ? { modify: true, ...(proc.lock ? { lock: proc.lock(args) } : {}) } : {}, () =>
        (fn as (...a: unknown[]) => Promise<unknown>).apply(target, args),
      );
      this.leases.noteSuccess(name, args);
      if (this.state === 'closed') {
        // The client left while its prepare ran: nobody will finish that migration.
        void this.releaseLeases(conn);
        return;
      }
      this.progressFlush.get(id)?.();
      this.reply(id, proc, result);
    } finally {
      this.leases.noteDone(name, args);
      this.jobs.delete(id);
      this.progressFlush.delete(id);
      // An upload the driver did not read to the end is over now.
      if (upload && !upload.destroyed) upload.abort(new VirtError('OPERATION_ABORTED', `${name} finished before the upload did`, { origin: 'virtkitd' }));
    }
  }

  /** Sets up the call's job context and upload stream; returns the upload stream. */
  private prepareExtras(id: number, proc: Procedure, args: unknown[]): WireStream | undefined {
    let upload: WireStream | undefined;
    for (let i = 0; i < proc.args.length; i++) {
      const { kind } = kindOf(proc.args[i]!);
      if (kind === 'job') {
        if (!args[i]) continue;
        const ctrl = new AbortController();
        this.jobs.set(id, ctrl);
        let last = 0;
        let timer: NodeJS.Timeout | undefined;
        let latest: JobProgress | undefined;
        const flush = () => {
          if (timer) clearTimeout(timer);
          timer = undefined;
          if (latest && this.jobs.has(id)) this.send(encodeJsonFrame(FrameType.PROGRESS, id, latest));
          latest = undefined;
          last = Date.now();
        };
        const job: JobContext = {
          signal: ctrl.signal,
          onProgress: (p) => {
            latest = { processed: Number(p.processed) || 0, total: Number(p.total) || 0, ...(p.operation ? { operation: String(p.operation) } : {}) };
            if (Date.now() - last >= PROGRESS_EVERY_MS) flush();
            else timer ??= setTimeout(flush, PROGRESS_EVERY_MS);
          },
        };
        args[i] = job;
        this.progressFlush.set(id, flush);
      } else if (kind === 'source') {
        upload = new WireStream(this.peer, id, 'in');
        this.peer.streams.set(id, upload);
        upload.on('error', () => {});
        args[i] = upload as Readable;
      }
    }
    return upload;
  }

  private reply(id: number, proc: Procedure, result: unknown): void {
    if (proc.result === 'json') {
      this.send(encodeJsonFrame(FrameType.REPLY, id, { r: result ?? null }));
      return;
    }
    const src = result as Duplex;
    if (!src || typeof src.pipe !== 'function') {
      throw new VirtError('INTERNAL_ERROR', `${proc.name}: the driver returned no stream`, { origin: 'virtkitd' });
    }
    const wire = new WireStream(this.peer, id, proc.result === 'duplex' ? 'both' : 'out');
    this.peer.streams.set(id, wire);
    this.send(encodeJsonFrame(FrameType.REPLY, id, { r: null }));
    src.on('error', (err) => wire.abort(err));
    wire.on('error', () => src.destroy());
    wire.on('close', () => {
      if (!src.destroyed && proc.result === 'readable') src.destroy();
    });
    src.pipe(wire);
    if (proc.result === 'duplex') wire.pipe(src);
  }

  private targetOf(conn: Connection, t: Target): Record<string, unknown> | undefined {
    try {
      switch (t) {
        case 'host':
          return conn.driver as unknown as Record<string, unknown>;
        case 'domains':
          return conn.driver.domains as unknown as Record<string, unknown> | undefined;
        case 'networks':
          return conn.networks as unknown as Record<string, unknown>;
        case 'storage':
          return conn.storage as unknown as Record<string, unknown>;
        case 'interfaces':
          return conn.interfaces as unknown as Record<string, unknown>;
      }
    } catch {
      return undefined;
    }
  }

  private async open(id: number, raw: unknown): Promise<void> {
    const a = Array.isArray(raw) ? (raw[0] as { uri?: unknown; readonly?: unknown } | undefined) : undefined;
    if (!a || typeof a.uri !== 'string') throw new VirtError('INVALID_ARG', 'connect.open: expected [{ uri, readonly }]', { origin: 'virtkitd' });
    if (this.conn) throw new VirtError('OPERATION_INVALID', 'connect.open: a driver is already open on this connection', { origin: 'virtkitd' });
    let served: string;
    try {
      served = resolveServedUri(a.uri, this.daemon.config.root);
    } catch (err) {
      this.refuse('URI not served', { requested: a.uri.slice(0, 256), error: (err as Error).message });
      throw err;
    }
    if (a.readonly === true) this.readonlySession = true;
    const { conn, release } = await this.daemon.pool.acquire(served);
    if (this.state === 'closed') {
      release();
      return;
    }
    this.conn = conn;
    this.release = release;
    this.servedUri = served;
    this.unsubscribe = conn.on('*', (e: VirtEvent) => this.send(encodeJsonFrame(FrameType.EVENT, 0, e)));
    const targets: OpenReply['targets'] = {};
    for (const t of TARGETS) {
      const obj = this.targetOf(conn, t);
      if (!obj) continue;
      targets[t] = proceduresOf(t)
        .filter((p) => typeof obj[p.method] === 'function')
        .map((p) => p.method);
    }
    const reply: OpenReply = {
      uri: conn.getUri(),
      driver: conn.driver.name,
      capabilities: [...conn.driver.capabilities],
      targets,
      readonly: this.readonlySession,
    };
    this.daemon.log.info('driver opened', this.fields({ readonly: this.readonlySession }));
    this.send(encodeJsonFrame(FrameType.REPLY, id, { r: reply }));
  }

  private async releaseLeases(conn: Connection): Promise<void> {
    if (!this.leases.size) return;
    await this.leases.cancelAll(conn, (msg, fields) => this.daemon.log.warn(msg, this.fields(fields)));
  }

  private closeDriver(): void {
    // Migrations this client prepared and did not finish are cancelled before its driver reference goes.
    if (this.conn && this.leases.size) {
      const conn = this.conn;
      const release = this.release;
      this.release = undefined;
      void this.releaseLeases(conn).finally(() => release?.());
    }
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.release?.();
    this.release = undefined;
    this.conn = undefined;
  }

  private onClosed(reason: VirtError): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    this.closeDriver();
    this.daemon.forget(this);
    if (wasReady) this.daemon.log.info('client disconnected', this.fields({ reason: reason.message, inFlight: this.inFlight }));
  }

  /** Drops the client (daemon shutdown). */
  close(): void {
    this.peer.close(new VirtError('RPC', 'the daemon is shutting down', { origin: 'virtkitd' }));
  }
}
