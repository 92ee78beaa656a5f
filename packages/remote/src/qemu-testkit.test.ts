import { afterAll, beforeAll, describe } from 'vitest';
import { stopAllDaemons } from './test-support/daemon-process.js';
import { HAVE_QEMU, startQemuDaemon, type QemuDaemon } from './test-support/qemu.js';
import { runRemoteTestkit } from './test-support/remote-testkit.js';
import { startSshd, type TestSshd } from './test-support/sshd.js';

// The shared driver testkit through the remote driver (unix socket and SSH)
// against real QEMU guests (TCG) of a virtkitd --root in a temp folder.
describe.skipIf(!HAVE_QEMU)('remote driver against the QEMU driver', () => {
  let q: QemuDaemon | undefined;
  let sshd: TestSshd | undefined;

  beforeAll(async () => {
    q = await startQemuDaemon();
    sshd = await startSshd();
  }, 120_000);
  afterAll(async () => {
    await sshd?.stop();
    await q?.stop();
    await stopAllDaemons();
  }, 60_000);

  runRemoteTestkit({
    driver: 'qemu',
    path: '/system',
    domainXml: (name, uuid) => q!.domainXml(name, uuid ? { uuid } : {}),
    daemon: () => q!.daemon,
    sshd: () => sshd!,
    guestHandlesShutdown: true,
    timeoutMs: 60_000,
  });
});
