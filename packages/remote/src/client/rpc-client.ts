import type { Duplex, Readable } from 'node:stream';
import { VirtError, type JobContext, type JobProgress, type VirtEvent } from '@virtkit/core';
import { encodeFrame, encodeJsonFrame, FrameType, frameTypeName, type Frame } from '../protocol/frame.js';
import { acceptHello, clientHello } from '../protocol/hello.js';
import { Peer } from '../protocol/peer.js';
import { MAX_FRAME, MAX_HELLO_FRAME, type ResultKind } from '../protocol/schema.js';
import { WireStream } from '../protocol/wire-stream.js';

export interface RpcClientOptions {
  /** Who the daemon is, for messages: `virtkitd at unix:/run/virtkit/virtkit-sock`. */
  label: string;
  keepaliveIntervalMs?: number;
  keepaliveCount?: number;
  /** How long the handshake may take (ms). */
  handshakeTimeoutMs?: number;
  /** Receives the daemon's events. */
  onEvent?: (e: VirtEvent) => void;
  /** Told once when the connection is gone (not after close()). */
  onLost?: (reason: VirtError) => void;
}

/** Extras of one call that are not JSON. */
export interface CallExtras {
  job?: JobContext;
  /** Bytes to upload as the call's stream. */
  source?: Readable;
  /** The call's result is a stream. */
  result?: ResultKind;
}

interface Pending {
  proc: string;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  job?: JobContext;
  stream?: WireStream;
  detachSignal?: () => void;
}

const SOFTWARE = 'virtkit-remote/0.1.0';

/**
 * The client end of the protocol: numbered calls (many in flight), their
 * replies and errors, events, job progress and cancellation, and streams.
 */
export class RpcClient {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private localClose = false;
  readonly daemonReadonly: boolean;
  readonly daemonSoftware: string;

  private constructor(
    private readonly peer: Peer,
    hello: { readonly?: boolean; software: string },
    private readonly opts: RpcClientOptions,
  ) {
    this.daemonReadonly = !!hello.readonly;
    this.daemonSoftware = hello.software;
    peer.onFrame = (f) => this.onFrame(f);
    peer.onClose((reason) => this.onClosed(reason));
  }

  /** Shakes hands on a connected byte stream. */
  static connect(socket: Duplex, opts: RpcClientOptions): Promise<RpcClient> {
    const peer = new Peer(socket, {
      maxFrame: MAX_HELLO_FRAME,
      keepaliveIntervalMs: opts.keepaliveIntervalMs ?? 5000,
      keepaliveCount: opts.keepaliveCount ?? 5,
      label: opts.label,
    });
    return new Promise<RpcClient>((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(new VirtError('NO_CONNECT', `${opts.label} did not answer the protocol handshake within ${Math.round((opts.handshakeTimeoutMs ?? 15000) / 1000)} s: is it a virtkitd?`, { origin: 'remote' }));
      }, opts.handshakeTimeoutMs ?? 15000);
      let done = false;
      const fail = (err: VirtError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        peer.close(err);
        reject(err);
      };
      peer.onClose((reason) => fail(new VirtError('NO_CONNECT', `${opts.label} closed the connection during the handshake: ${reason.message}`, { origin: 'remote', cause: reason })));
      peer.onFrame = (f) => {
        if (done) return;
        try {
          if (f.type === FrameType.ERROR) throw VirtError.fromJSON(Peer.json(f, 'error'));
          if (f.type !== FrameType.HELLO) throw new VirtError('RPC', `${opts.label} sent ${frameTypeName(f.type)} before its handshake`, { origin: 'remote' });
          const { hello } = acceptHello(Peer.json(f, 'handshake'), opts.label);
          done = true;
          clearTimeout(timer);
          peer.decoder.maxFrame = MAX_FRAME;
          resolve(new RpcClient(peer, hello, opts));
        } catch (err) {
          fail(err instanceof VirtError ? err : new VirtError('RPC', String(err), { origin: 'remote' }));
        }
      };
      peer.send(encodeJsonFrame(FrameType.HELLO, 0, clientHello(SOFTWARE)));
    });
  }

  get isOpen(): boolean {
    return !this.peer.closed;
  }

  get label(): string {
    return this.opts.label;
  }

  private newId(): number {
    for (;;) {
      this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
      if (!this.pending.has(this.nextId) && !this.peer.streams.has(this.nextId)) return this.nextId;
    }
  }

  /** Calls a procedure; resolves with its result (a stream for stream results). */
  call(proc: string, args: unknown[], extras?: CallExtras): Promise<unknown> {
    if (this.peer.closed) return Promise.reject(this.deadError(proc));
    const id = this.newId();
    return new Promise((resolve, reject) => {
      const p: Pending = { proc, resolve, reject };
      this.pending.set(id, p);
      if (extras) this.prepareExtras(id, p, extras);
      this.peer.send(encodeJsonFrame(FrameType.CALL, id, { p: proc, a: args }));
      if (extras?.source && p.stream) extras.source.pipe(p.stream);
    });
  }

  private prepareExtras(id: number, p: Pending, extras: CallExtras): void {
    if (extras.job) {
      p.job = extras.job;
      const signal = extras.job.signal;
      if (signal) {
        const onAbort = () => {
          this.peer.send(encodeFrame(FrameType.CANCEL, id));
          p.stream?.abort(new VirtError('OPERATION_ABORTED', `${p.proc}: cancelled`, { origin: 'remote' }));
        };
        if (signal.aborted) queueMicrotask(onAbort);
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          p.detachSignal = () => signal.removeEventListener('abort', onAbort);
        }
      }
    }
    const mode = extras.source ? 'out' : extras.result === 'readable' ? 'in' : extras.result === 'duplex' ? 'both' : undefined;
    if (mode) {
      const s = new WireStream(this.peer, id, mode);
      this.peer.streams.set(id, s);
      p.stream = s;
      if (extras.source) {
        const src = extras.source;
        src.once('error', (err) => s.abort(err));
        s.once('error', () => src.destroy());
      }
    }
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case FrameType.REPLY:
      case FrameType.ERROR: {
        if (f.id === 0 && f.type === FrameType.ERROR) {
          // About the connection as a whole; the close that follows fails the calls.
          return;
        }
        const p = this.pending.get(f.id);
        if (!p) return;
        this.pending.delete(f.id);
        p.detachSignal?.();
        let body: unknown;
        try {
          body = Peer.json(f, f.type === FrameType.REPLY ? 'reply' : 'error');
        } catch (err) {
          p.stream?.abort(err as Error);
          p.reject(err);
          return;
        }
        if (f.type === FrameType.ERROR) {
          const err = VirtError.fromJSON(body);
          p.stream?.onLinkClosed(err);
          p.reject(err);
          return;
        }
        // Uploads finish with the reply; download and console streams live on.
        if (p.stream && p.stream.mode !== 'out') p.resolve(p.stream);
        else p.resolve((body as { r?: unknown } | null)?.r);
        return;
      }
      case FrameType.EVENT: {
        let e: unknown;
        try {
          e = Peer.json(f, 'event');
        } catch {
          return;
        }
        if (e && typeof e === 'object' && typeof (e as { kind?: unknown }).kind === 'string') this.opts.onEvent?.(e as VirtEvent);
        return;
      }
      case FrameType.PROGRESS: {
        const p = this.pending.get(f.id);
        if (!p?.job?.onProgress) return;
        try {
          p.job.onProgress(Peer.json(f, 'progress') as JobProgress);
        } catch {
          /* a throwing progress callback must not break the connection */
        }
        return;
      }
      default:
        // Frames this version does not know are ignored (a newer daemon may send more).
        return;
    }
  }

  private deadError(proc: string): VirtError {
    const why = this.peer.closeReason;
    return new VirtError(
      'INVALID_CONN',
      `${proc}: the connection to ${this.opts.label} is closed${why && !this.localClose ? ` (${why.message})` : ''}; open a new connection`,
      { origin: 'remote', cause: why },
    );
  }

  private onClosed(reason: VirtError): void {
    const lost = !this.localClose;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.detachSignal?.();
      p.reject(
        lost
          ? new VirtError(
              'RPC',
              `${p.proc}: lost the connection to ${this.opts.label} while the call was in flight (${reason.message}); ` +
                'the daemon may have stopped: start it again (virtkitd) and reconnect',
              { origin: 'remote', cause: reason },
            )
          : new VirtError('INVALID_CONN', `${p.proc}: the connection to ${this.opts.label} was closed by this client`, { origin: 'remote' }),
      );
    }
    if (lost) this.opts.onLost?.(reason);
  }

  /** Calls in flight (for tests and metrics). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Closes the connection; calls in flight fail with INVALID_CONN. */
  async close(): Promise<void> {
    if (this.peer.closed) return;
    this.localClose = true;
    // Tell the daemon first so it can release the driver at once; do not wait long.
    try {
      await Promise.race([this.call('connect.close', []), new Promise((r) => setTimeout(r, 500).unref())]);
    } catch {
      /* closing anyway */
    }
    this.peer.close(new VirtError('INVALID_CONN', `connection to ${this.opts.label} closed by the client`, { origin: 'remote' }));
  }

  /** Drops the connection at once (tests). */
  destroy(): void {
    this.localClose = true;
    this.peer.socket.destroy();
  }
}
