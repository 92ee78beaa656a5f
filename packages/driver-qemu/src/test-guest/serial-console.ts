import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { VirtError } from '@virtkit/core';
import { TEST_GUEST_PROMPT } from './init-script.js';

interface Waiter {
  match: (text: string) => number;
  resolve: (upTo: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Reads and writes a guest's serial console through a unix-socket chardev
 * (`-chardev socket,id=serial0,path=…,server=on,wait=off -serial chardev:serial0`),
 * or any byte stream to it (a domain's `openConsole()`).
 * Output is kept until consumed by waitFor, so nothing printed between two
 * waits is lost.
 */
export class SerialConsole {
  private readonly socket: Duplex;
  private buffer = '';
  private waiter: Waiter | undefined;
  private closed = false;
  /** Everything read so far, for failure messages. */
  transcript = '';

  private constructor(socket: Duplex) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.transcript = (this.transcript + d).slice(-20_000);
      this.check();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      const w = this.waiter;
      this.waiter = undefined;
      if (w) {
        clearTimeout(w.timer);
        w.reject(new VirtError('OPERATION_FAILED', `serial console closed (QEMU exited?); last output: ${this.transcript.slice(-300)}`));
      }
    });
  }

  /** Wraps an open stream to the console (e.g. what `DomainHandle.openConsole()` returns). */
  static fromStream(stream: Duplex): SerialConsole {
    return new SerialConsole(stream);
  }

  static connect(path: string): Promise<SerialConsole> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new SerialConsole(s)));
      s.once('error', (err) => reject(new VirtError('OPERATION_FAILED', `cannot open serial console ${path}: ${err.message}`, { cause: err })));
    });
  }

  /** Waits until `pattern` appears; consumes output up to and including it, returns that output. */
  waitFor(pattern: string | RegExp, timeoutMs = 20_000): Promise<string> {
    if (this.waiter) return Promise.reject(new VirtError('OPERATION_INVALID', 'serial console: one waitFor at a time'));
    const match = (text: string): number => {
      if (typeof pattern === 'string') {
        const i = text.indexOf(pattern);
        return i < 0 ? -1 : i + pattern.length;
      }
      const m = pattern.exec(text);
      return m ? m.index + m[0].length : -1;
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new VirtError('OPERATION_TIMEOUT', `serial console: no ${String(pattern)} within ${timeoutMs} ms; last output: ${JSON.stringify(this.transcript.slice(-400))}`));
      }, timeoutMs);
      this.waiter = { match, resolve, reject, timer };
      if (this.closed) {
        clearTimeout(timer);
        this.waiter = undefined;
        reject(new VirtError('OPERATION_FAILED', 'serial console is closed'));
        return;
      }
      this.check();
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /**
   * Runs a shell command on the test guest and returns its output (without
   * the echoed command line). The end marker is computed by the shell, so
   * the echo of the command itself never matches it.
   */
  async run(command: string, timeoutMs = 20_000): Promise<string> {
    const tag = Math.random().toString(36).slice(2, 8);
    this.buffer = '';
    this.write(`${command}; echo "@@${tag}"'@@'$?\n`);
    const out = await this.waitFor(new RegExp(`@@${tag}@@(\\d+)`), timeoutMs);
    await this.waitFor(TEST_GUEST_PROMPT, timeoutMs);
    const lines = out.split(/\r?\n/);
    // Drop the echoed command (first line) and the marker line (last).
    return lines.slice(1, -1).join('\n').replace(/\r/g, '');
  }

  close(): void {
    this.socket.destroy();
  }

  private check(): void {
    const w = this.waiter;
    if (!w) return;
    const end = w.match(this.buffer);
    if (end < 0) return;
    const upTo = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end);
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve(upTo);
  }
}
