import { describe, expect, it } from 'vitest';
import { daemonSocketFor } from './daemon-socket.js';
import { socketDirFor } from './paths.js';
import { parseUri } from './uri.js';

describe('daemonSocketFor', () => {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  it('names the system, session and embed daemons’ sockets', () => {
    expect(daemonSocketFor(parseUri('qemu:///system'))).toBe('/run/virtkit/virtkit-sock');
    expect(daemonSocketFor(parseUri('lxc:///'), true)).toBe('/run/virtkit/virtkit-sock-ro');
    expect(daemonSocketFor(parseUri('qemu:///embed?root=/srv/vk'))).toBe('/srv/vk/run/virtkit-sock');
    const deep = `/srv/${'d'.repeat(100)}`;
    expect(daemonSocketFor(parseUri(`qemu:///embed?root=${deep}`))).toBe(`${socketDirFor(`${deep}/run`)}/virtkit-sock`);
    expect(daemonSocketFor(parseUri('qemu:///session'))).toMatch(/virtkit\/(run\/)?virtkit-sock$/);
    expect(daemonSocketFor(parseUri('test:///default'))).toBe(root ? '/run/virtkit/virtkit-sock' : daemonSocketFor(parseUri('qemu:///session')));
  });
});
