/**
 * A byte stream to a container's console. LXC hands the console's pty
 * over its command socket only to a client with a terminal, so
 * `lxc-console` runs under `script` (util-linux), which gives it one; the
 * stream is that pair's input and output. Closing the stream ends them.
 */
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { VirtError } from '@virtkit/core';
import { toolEnv } from './command.js';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * LXC relays the console through ptys of its own, each adding a CR before
 * LF: runs of CRs before an LF become one again (a lone CR, as progress
 * output uses, is kept). Stateful across chunks.
 */
export class CrRunFilter {
  private pendingCr = 0;

  push(chunk: Buffer): Buffer {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === 0x0d) {
        this.pendingCr++;
        continue;
      }
      if (this.pendingCr) {
        if (byte === 0x0a) out.push(0x0d);
        else for (let i = 0; i < this.pendingCr; i++) out.push(0x0d);
        this.pendingCr = 0;
      }
      out.push(byte);
    }
    return Buffer.from(out);
  }

  flush(): Buffer {
    const b = Buffer.alloc(this.pendingCr, 0x0d);
    this.pendingCr = 0;
    return b;
  }
}

/** Opens the console of tty `tty` (0 = /dev/console) of a running container. */
export function openContainerConsole(consoleArgv: string[], what: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    // script's own pty must pass bytes through untouched (no echo, no CR/LF rewriting).
    const command = `stty raw -echo 2>/dev/null; exec ${consoleArgv.map(shellQuote).join(' ')}`;
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...toolEnv(), SHELL: '/bin/sh', TERM: process.env.TERM || 'xterm' },
    });
    let settled = false;
    let banner = '';
    const crs = new CrRunFilter();
    let seenBanner = false;
    const errText: string[] = [];
    child.stderr.on('data', (b: Buffer) => errText.push(b.toString()));

    const stream = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        if (!child.stdin.writable) return cb();
        child.stdin.write(chunk, cb);
      },
      final(cb) {
        child.stdin.end();
        cb();
      },
      read() {
        child.stdout.resume();
      },
      destroy(err, cb) {
        // script waits for lxc-console, which may sit in a read: end both, and let nothing here hold the process open.
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          const force = setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 500);
          force.unref?.();
        }
        child.stdin.destroy();
        child.stdout.destroy();
        child.stderr.destroy();
        child.unref();
        cb(err);
      },
    });

    child.stdout.on('data', (b: Buffer) => {
      let chunk = b;
      if (!seenBanner) {
        // lxc-console greets with "Connected to tty N / Type <Ctrl+a q> …": keep it out of the guest's bytes.
        banner += b.toString('latin1');
        const end = banner.indexOf('itself');
        if (end < 0 && banner.length < 512) return;
        seenBanner = true;
        const rest = end < 0 ? banner : banner.slice(end + 'itself'.length).replace(/^\r?\n/, '');
        if (!settled) {
          settled = true;
          resolve(stream);
        }
        if (!rest) return;
        chunk = Buffer.from(rest, 'latin1');
      }
      const filtered = crs.push(chunk);
      if (filtered.length && !stream.push(filtered)) child.stdout.pause();
    });
    child.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(new VirtError('OPERATION_FAILED', `${what}: cannot run script/lxc-console: ${err.message}`, { origin: 'lxc', cause: err }));
      } else stream.destroy(err);
    });
    child.on('close', (code) => {
      if (!settled) {
        settled = true;
        const why = errText.join('').trim() || banner.trim() || `exit status ${code}`;
        reject(new VirtError('OPERATION_FAILED', `${what}: cannot attach to the console: ${why}`, { origin: 'lxc' }));
        return;
      }
      const rest = crs.flush();
      if (rest.length) stream.push(rest);
      stream.push(null);
      stream.destroy();
    });
    // A console that greets nobody within 10 s is not going to.
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new VirtError('OPERATION_TIMEOUT', `${what}: the console did not answer within 10 s`, { origin: 'lxc' }));
    }, 10_000);
    timer.unref?.();
    child.on('close', () => clearTimeout(timer));
  });
}
