// The benchmarks' limit side: QEMU spawned and driven with bare QMP, no
// state, no locks.
import { spawn } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** A bare QMP client: no ids, no timeouts, no events; replies come back in order. `call` resolves with `return`, throws on a QMP error. */
export function qmpOver(sock) {
  let buf = '';
  const waiting = [];
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (!msg.event) waiting.shift()?.(msg);
    }
  });
  sock.on('error', () => {});
  return {
    next: () => new Promise((r) => waiting.push(r)),
    call: async (execute, args) => {
      sock.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n');
      const m = await new Promise((r) => waiting.push(r));
      if (m.error) throw new Error(`${execute}: ${m.error.desc}`);
      return m.return;
    },
  };
}

let seq = 0;

/**
 * Spawns QEMU with its monitor on fd 3 (bound before the spawn, as virtkit
 * does) and `extraFds` from fd 4 on; resolves once QMP is negotiated.
 */
export async function rawQemu(dir, args, extraFds = []) {
  const path = join(dir, `raw${seq++}.sock`);
  const server = createServer();
  // Bound under a temporary name: closing our copy of the server unlinks that name.
  await new Promise((r) => server.listen(`${path}.tmp`, r));
  renameSync(`${path}.tmp`, path);
  const child = spawn('qemu-system-x86_64', args, { detached: true, stdio: ['ignore', 'ignore', 'ignore', server._handle.fd, ...extraFds] });
  server.close();
  const exited = new Promise((r) => child.on('exit', r));
  const sock = connect(path);
  const q = qmpOver(sock);
  await q.next();
  await q.call('qmp_capabilities');
  return { child, q, sock, exited, path };
}

export async function rawStop(g) {
  g.child.kill('SIGTERM');
  await g.exited;
  g.sock.destroy();
  rmSync(g.path, { force: true });
}
