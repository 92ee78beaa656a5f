import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonRouteFor } from './daemon-route.js';

describe('daemonRouteFor', () => {
  it('routes a stateful local URI through a daemon whose socket answers, and nothing else', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vkcr-'));
    const uri = `qemu:///embed?root=${root}`;
    try {
      expect(await daemonRouteFor(uri, false)).toBeUndefined();
      expect(await daemonRouteFor('test:///default', false)).toBeUndefined();
      expect(await daemonRouteFor('qemu+ssh://h/system', false)).toBeUndefined();
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(root, 'run'));
      const sock = join(root, 'run', 'virtkit-sock');
      const server = createServer((s) => s.destroy());
      await new Promise<void>((r) => server.listen(sock, r));
      try {
        expect(await daemonRouteFor(uri, false)).toBe(`qemu+unix:///embed?root=${encodeURIComponent(root)}&socket=${encodeURIComponent(sock)}`);
        expect(await daemonRouteFor(uri, false, { VIRTKIT_NO_DAEMON: '1' })).toBeUndefined();
        // The read-only socket is another file: nobody listens there.
        expect(await daemonRouteFor(uri, true)).toBeUndefined();
      } finally {
        await new Promise((r) => server.close(r));
      }
      // A socket file left by a daemon that died (bound, nobody listening) is ignored.
      const { spawnSync } = await import('node:child_process');
      const listenAndDie = `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`;
      spawnSync(process.execPath, ['-e', listenAndDie]);
      const { existsSync } = await import('node:fs');
      expect(existsSync(sock)).toBe(true);
      expect(await daemonRouteFor(uri, false)).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
