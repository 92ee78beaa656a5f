import { afterAll, beforeAll } from 'vitest';
import { startDaemon, stopAllDaemons, type RunningDaemon } from './test-support/daemon-process.js';
import { runRemoteTestkit } from './test-support/remote-testkit.js';
import { startSshd, type TestSshd } from './test-support/sshd.js';

let daemon: RunningDaemon;
let sshd: TestSshd;

beforeAll(async () => {
  daemon = await startDaemon();
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  await stopAllDaemons();
});

runRemoteTestkit({
  driver: 'test',
  path: '/default',
  domainXml: (name, uuid) =>
    `<domain type='test'><name>${name}</name>${uuid ? `<uuid>${uuid}</uuid>` : ''}<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`,
  daemon: () => daemon,
  sshd: () => sshd,
});

// The same suites against the QEMU driver: qemu-testkit.test.ts.
