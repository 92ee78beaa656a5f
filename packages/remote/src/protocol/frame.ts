import { VirtError } from '@virtkit/core';

/**
 * Framing of the virtkit wire protocol (docs/protocol.md):
 *
 *   u32 length (big-endian, bytes that follow) | u8 type | u32 id | payload
 *
 * `length` counts type, id and payload, so it is at least 5. A frame whose
 * length is below 5 or above the receiver's limit is a framing error: the
 * stream can no longer be trusted and the connection is closed.
 */
export const FRAME_HEADER = 9;

/** Frame types. Numbers are part of the protocol; append only. */
export const FrameType = {
  /** Handshake, both ways, JSON. Must be the first frame on a connection. */
  HELLO: 1,
  /** Client → server: `{ p: procedure, a: args }`, id = call id. */
  CALL: 2,
  /** Server → client: `{ r: result }` for call id. */
  REPLY: 3,
  /** Server → client: VirtError JSON for call id (id 0: the connection as a whole). */
  ERROR: 4,
  /** Server → client: a lifecycle event, JSON, id 0. */
  EVENT: 5,
  /** Stream bytes for stream id (= the call id that opened it), raw payload. */
  DATA: 6,
  /** Stream window update: JSON `{ n: bytes }`: the sender of DATA may send n more bytes. */
  CREDIT: 7,
  /** The sender finished writing its side of stream id (empty payload). */
  END: 8,
  /** Stream id failed or was cancelled; VirtError JSON. Both directions stop. */
  ABORT: 9,
  /** Keepalive probe, either way, empty payload; answered by PONG with the same id. */
  PING: 10,
  PONG: 11,
  /** Server → client: job progress of a call, JSON `{ processed, total, operation? }`. */
  PROGRESS: 12,
  /** Client → server: cancel the job of call id (its AbortSignal fires). */
  CANCEL: 13,
} as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

const TYPE_NAMES = new Map<number, string>(Object.entries(FrameType).map(([k, v]) => [v, k]));
export function frameTypeName(t: number): string {
  return TYPE_NAMES.get(t) ?? `unknown(${t})`;
}

export interface Frame {
  type: number;
  id: number;
  payload: Buffer;
}

/** Encodes one frame with a JSON payload (or none when `body` is undefined). */
export function encodeJsonFrame(type: number, id: number, body: unknown): Buffer {
  if (body === undefined) return encodeFrame(type, id);
  const json = JSON.stringify(body);
  // One allocation: header and body written in place.
  const max = FRAME_HEADER + json.length * 3;
  const buf = Buffer.allocUnsafe(json.length < 4096 ? max : FRAME_HEADER + Buffer.byteLength(json));
  const n = buf.write(json, FRAME_HEADER, 'utf8');
  buf.writeUInt32BE(n + 5, 0);
  buf[4] = type;
  buf.writeUInt32BE(id >>> 0, 5);
  return n + FRAME_HEADER === buf.length ? buf : buf.subarray(0, n + FRAME_HEADER);
}

/** Encodes one frame with a raw payload. */
export function encodeFrame(type: number, id: number, payload?: Buffer): Buffer {
  const len = payload ? payload.length : 0;
  const buf = Buffer.allocUnsafe(FRAME_HEADER + len);
  buf.writeUInt32BE(len + 5, 0);
  buf[4] = type;
  buf.writeUInt32BE(id >>> 0, 5);
  if (payload) payload.copy(buf, FRAME_HEADER);
  return buf;
}

/**
 * Cuts a byte stream into frames. Chunks are kept in a list and joined
 * once per frame, so a large frame arriving in many pieces costs one copy.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private needed = -1;
  /** Bytes accepted in one frame (type + id + payload). */
  maxFrame: number;

  constructor(
    maxFrame: number,
    private readonly onFrame: (f: Frame) => void,
  ) {
    this.maxFrame = maxFrame;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Feeds bytes; throws VirtError RPC on a framing error (the caller closes the connection). */
  push(chunk: Buffer): void {
    if (this.buffered === 0 && this.needed < 0) {
      // Fast path: frames wholly inside this chunk are cut without copying.
      let off = 0;
      while (chunk.length - off >= 4) {
        const len = chunk.readUInt32BE(off);
        this.check(len);
        if (chunk.length - off - 4 < len) break;
        this.emit(chunk.subarray(off + 4, off + 4 + len));
        off += 4 + len;
      }
      if (off === chunk.length) return;
      chunk = chunk.subarray(off);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.needed < 0) {
        if (this.buffered < 4) return;
        const head = this.take(4);
        const len = head.readUInt32BE(0);
        this.check(len);
        this.needed = len;
      }
      if (this.buffered < this.needed) return;
      const body = this.take(this.needed);
      this.needed = -1;
      this.emit(body);
    }
  }

  private check(len: number): void {
    if (len < 5) throw new VirtError('RPC', `malformed frame: length ${len} is shorter than a frame header`, { origin: 'remote' });
    if (len > this.maxFrame) {
      throw new VirtError('RPC', `frame of ${len} bytes exceeds the limit of ${this.maxFrame} bytes`, { origin: 'remote' });
    }
  }

  private emit(body: Buffer): void {
    this.onFrame({ type: body[0]!, id: body.readUInt32BE(1), payload: body.subarray(5) });
  }

  /** Removes n bytes from the front of the chunk list. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}

/** Parses a JSON payload; a bad one is an RPC error naming what it was meant to be. */
export function parseJsonPayload(payload: Buffer, what: string): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new VirtError('RPC', `malformed ${what} message: ${(err as Error).message}`, { origin: 'remote' });
  }
}
