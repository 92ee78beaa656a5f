import type { Duplex } from 'node:stream';
import { VirtError } from '@virtkit/core';
import { encodeFrame, encodeJsonFrame, FrameDecoder, FrameType, parseJsonPayload, type Frame } from './frame.js';
import type { StreamLink, WireStream } from './wire-stream.js';

export interface PeerOptions {
  /** Largest frame accepted (raised after the handshake). */
  maxFrame: number;
  /** Probe an idle peer after this long (ms); 0 turns keepalive off. */
  keepaliveIntervalMs: number;
  /** Unanswered probes before the peer counts as dead. */
  keepaliveCount: number;
  /** Who the other end is, for messages (`virtkitd at unix:/run/virtkit/virtkit-sock`). */
  label: string;
}

/**
 * One protocol connection over any byte stream (unix or TCP socket, TLS,
 * an SSH channel, stdio): framing, batched writes, keepalive, and the
 * multiplexed byte streams. The client and the daemon build their call
 * handling on top through `onFrame`.
 */
export class Peer implements StreamLink {
  readonly decoder: FrameDecoder;
  readonly streams = new Map<number, WireStream>();
  private closedWith?: VirtError;
  private lastHeard = Date.now();
  private missed = 0;
  private pingSeq = 0;
  private keepaliveTimer?: NodeJS.Timeout;
  private corked = false;
  private closeListeners: ((reason: VirtError) => void)[] = [];
  /** Handles every frame except PING/PONG and stream frames. */
  onFrame: (f: Frame) => void = () => {};
  /** Told about a framing error just before the connection is closed for it. */
  onProtocolError: (err: VirtError) => void = () => {};

  constructor(
    readonly socket: Duplex,
    readonly opts: PeerOptions,
  ) {
    this.decoder = new FrameDecoder(opts.maxFrame, (f) => this.dispatch(f));
    socket.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      this.missed = 0;
      try {
        this.decoder.push(chunk);
      } catch (err) {
        const ve = err instanceof VirtError ? err : new VirtError('RPC', `protocol error from ${opts.label}: ${(err as Error).message}`, { origin: 'remote' });
        this.onProtocolError(ve);
        // Say why before hanging up: the framing can no longer be trusted.
        this.sendNow(encodeJsonFrame(FrameType.ERROR, 0, ve.toJSON()));
        this.close(ve);
      }
    });
    socket.on('error', (err: Error) => {
      this.close(new VirtError('RPC', `connection to ${opts.label} failed: ${err.message}`, { origin: 'remote', cause: err }));
    });
    socket.on('close', () => this.close());
    socket.on('end', () => {
      // The peer will send nothing more: the conversation is over.
      this.close();
    });
    if (opts.keepaliveIntervalMs > 0) this.startKeepalive();
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Why the connection closed (undefined while open). */
  get closeReason(): VirtError | undefined {
    return this.closedWith;
  }

  /** Runs fn once the connection is closed, with the reason. */
  onClose(fn: (reason: VirtError) => void): void {
    if (this.closedWith) fn(this.closedWith);
    else this.closeListeners.push(fn);
  }

  private dispatch(f: Frame): void {
    switch (f.type) {
      case FrameType.PING:
        this.send(encodeFrame(FrameType.PONG, f.id));
        return;
      case FrameType.PONG:
        return;
      case FrameType.DATA:
        this.streams.get(f.id)?.onData(f.payload);
        return;
      case FrameType.CREDIT: {
        const s = this.streams.get(f.id);
        if (!s) return;
        const body = safeJson(f.payload) as { n?: unknown } | undefined;
        s.onCredit(Number(body?.n));
        return;
      }
      case FrameType.END:
        this.streams.get(f.id)?.onEnd();
        return;
      case FrameType.ABORT: {
        const s = this.streams.get(f.id);
        if (s) s.onAbort(VirtError.fromJSON(safeJson(f.payload)));
        return;
      }
      default:
        this.onFrame(f);
    }
  }

  /**
   * Queues a frame. Writes made in one tick go out together (cork until the
   * next tick), which is what makes many calls in flight cheap.
   */
  send(frame: Buffer): void {
    if (this.closedWith) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame);
  }

  private sendNow(frame: Buffer): void {
    if (this.closedWith || this.socket.destroyed) return;
    try {
      this.socket.write(frame);
    } catch {
      /* the socket is going away anyway */
    }
  }

  sendJson(type: number, id: number, body: unknown): void {
    this.send(encodeJsonFrame(type, id, body));
  }

  /** Bytes queued for the peer and not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  // StreamLink
  release(id: number): void {
    this.streams.delete(id);
  }

  private startKeepalive(): void {
    const interval = this.opts.keepaliveIntervalMs;
    this.keepaliveTimer = setInterval(() => {
      if (Date.now() - this.lastHeard < interval) return;
      if (this.missed >= this.opts.keepaliveCount) {
        this.close(
          new VirtError('RPC', `connection to ${this.opts.label} timed out: no answer to ${this.missed} keepalive probes in ${Math.round((this.missed * interval) / 1000)} s`, {
            origin: 'remote',
          }),
        );
        return;
      }
      this.missed++;
      this.pingSeq = (this.pingSeq + 1) >>> 0;
      this.send(encodeFrame(FrameType.PING, this.pingSeq));
    }, interval);
    this.keepaliveTimer.unref();
  }

  /** Closes the connection; every stream fails with `err` (or a plain "closed"). */
  close(err?: VirtError): void {
    if (this.closedWith) return;
    const reason = err ?? new VirtError('RPC', `connection to ${this.opts.label} was closed by the other end`, { origin: 'remote' });
    this.closedWith = reason;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    for (const s of [...this.streams.values()]) s.onLinkClosed(reason);
    this.streams.clear();
    // end() lets queued frames (a final ERROR) out before the socket goes.
    if (!this.socket.destroyed) {
      this.socket.end();
      const t = setTimeout(() => this.socket.destroy(), 1000);
      t.unref();
    }
    for (const fn of this.closeListeners.splice(0)) fn(reason);
  }

  /** Parses a frame's JSON payload. */
  static json(f: Frame, what: string): unknown {
    return parseJsonPayload(f.payload, what);
  }
}

function safeJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}
