import { Duplex } from 'node:stream';
import { VirtError } from '@virtkit/core';
import { encodeFrame, encodeJsonFrame, FrameType } from './frame.js';
import { STREAM_CHUNK, STREAM_WINDOW } from './schema.js';

/** What a stream needs from the connection it runs on. */
export interface StreamLink {
  send(frame: Buffer): void;
  /** Called once when the stream is done both ways (or aborted), so the link forgets it. */
  release(id: number): void;
}

/**
 * Which ways bytes flow at this end: `in` only receives (an upload at the
 * daemon, a download at the client), `out` only sends, `both` is a console.
 */
export type StreamMode = 'in' | 'out' | 'both';

/** Grant credit back once this much was consumed (a quarter window keeps the sender busy). */
const GRANT_AT = STREAM_WINDOW / 4;
/** A sender may overshoot its credit by less than one chunk; more is a protocol violation. */
const RECEIVE_LIMIT = STREAM_WINDOW + STREAM_CHUNK;

/**
 * One end of a byte stream multiplexed on a protocol connection. Reading
 * gives the DATA the peer sent; writing sends DATA, at most the credit the
 * peer granted (STREAM_WINDOW at the start, more as it consumes). Ending
 * sends END; destroying with an error sends ABORT.
 */
export class WireStream extends Duplex {
  /** Bytes we may still send. */
  private credit = STREAM_WINDOW;
  /** Bytes received and not yet granted back. */
  private owed = 0;
  /** Bytes received beyond what we granted (overshoot check). */
  private unGranted = 0;
  private backpressured = false;
  private waiting?: { chunk: Buffer; cb: (err?: Error | null) => void };
  private remoteDone = false;
  private released = false;
  private writableDone = false;

  constructor(
    private readonly link: StreamLink,
    readonly id: number,
    readonly mode: StreamMode,
  ) {
    super({ allowHalfOpen: true, highWaterMark: 64 * 1024 });
    if (mode === 'out') {
      // Nothing arrives at this end: end the readable side now (and let it flow so 'end' fires).
      this.push(null);
      this.resume();
    }
    if (mode === 'in') {
      // Nothing is sent from this end: its writable side is finished already.
      this.writableDone = true;
      this.end();
    }
    this.once('close', () => this.forget());
  }

  // ---------------------------------------------------------- from the peer

  /** DATA from the peer. */
  onData(payload: Buffer): void {
    if (this.destroyed || this.mode === 'out') return;
    this.unGranted += payload.length;
    if (this.unGranted > RECEIVE_LIMIT) {
      this.abort(new VirtError('RPC', `stream ${this.id}: peer sent ${this.unGranted} bytes beyond the flow-control window`, { origin: 'remote' }));
      return;
    }
    this.owed += payload.length;
    // Copy: the payload is a view into a frame buffer the decoder may reuse.
    const ok = this.push(Buffer.from(payload));
    this.backpressured = !ok;
    if (ok) this.maybeGrant(false);
  }

  /** CREDIT from the peer. */
  onCredit(n: number): void {
    if (!Number.isSafeInteger(n) || n <= 0) return;
    this.credit += n;
    const w = this.waiting;
    if (w && this.credit > 0) {
      this.waiting = undefined;
      this.sendChunk(w.chunk, w.cb);
    }
  }

  /** END from the peer: it writes no more. */
  onEnd(): void {
    if (this.mode === 'out') return;
    this.push(null);
  }

  /** ABORT from the peer. */
  onAbort(err: VirtError): void {
    this.remoteDone = true;
    this.fail(err);
  }

  /** The connection died (or the call failed): end the stream without telling the peer. */
  onLinkClosed(err: VirtError): void {
    this.remoteDone = true;
    this.fail(err);
  }

  /** Fails the stream and tells the peer. */
  abort(err: Error): void {
    this.fail(err);
  }

  /** Destroys with the error only when someone listens: a stream nobody holds yet must not crash the process. */
  private fail(err: Error): void {
    if (this.destroyed) return;
    this.destroy(this.listenerCount('error') > 0 ? err : undefined);
  }

  // ---------------------------------------------------------- Duplex

  override _read(): void {
    this.backpressured = false;
    this.maybeGrant(true);
  }

  private maybeGrant(force: boolean): void {
    if (this.owed === 0 || this.destroyed) return;
    if (!force && this.owed < GRANT_AT) return;
    const n = this.owed;
    this.owed = 0;
    this.unGranted -= n;
    this.link.send(encodeJsonFrame(FrameType.CREDIT, this.id, { n }));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.mode === 'in') {
      cb(new VirtError('INVALID_STREAM', `stream ${this.id} is read-only at this end`, { origin: 'remote' }));
      return;
    }
    this.sendChunk(chunk, cb);
  }

  private sendChunk(chunk: Buffer, cb: (err?: Error | null) => void): void {
    let off = 0;
    while (off < chunk.length && this.credit > 0) {
      const n = Math.min(STREAM_CHUNK, chunk.length - off);
      this.link.send(encodeFrame(FrameType.DATA, this.id, chunk.subarray(off, off + n)));
      this.credit -= n;
      off += n;
    }
    if (off < chunk.length) this.waiting = { chunk: chunk.subarray(off), cb };
    else cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.writableDone) this.link.send(encodeFrame(FrameType.END, this.id));
    this.writableDone = true;
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const w = this.waiting;
    this.waiting = undefined;
    // Ended both ways normally: nothing to tell. Otherwise the peer must stop too.
    const clean = !err && this.readableEnded && this.writableFinished;
    if (!this.remoteDone && !clean) {
      const ve = err instanceof VirtError ? err : new VirtError('OPERATION_ABORTED', `stream ${this.id} was closed: ${err?.message ?? 'cancelled'}`, { origin: 'remote' });
      this.link.send(encodeJsonFrame(FrameType.ABORT, this.id, ve.toJSON()));
    }
    w?.cb(err ?? new VirtError('OPERATION_ABORTED', `stream ${this.id} was closed`, { origin: 'remote' }));
    this.forget();
    cb(err);
  }

  private forget(): void {
    if (this.released) return;
    this.released = true;
    this.link.release(this.id);
  }

  /** Whether a consumer is behind (for tests and logs). */
  get isBackpressured(): boolean {
    return this.backpressured;
  }
}
