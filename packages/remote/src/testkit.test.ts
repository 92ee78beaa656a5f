import { existsSync, readFileSync } from 'node:fs';
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

// Hook for the QEMU driver: VIRTKIT_REMOTE_QEMU=1 runs the same suites
// through the daemon against qemu:///system under its --root, with the
// guest definition read from VIRTKIT_REMOTE_QEMU_XML (a file whose NAME
// and UUID placeholders are filled per domain; the QEMU driver's test
// guest provides one).
const qemuXml = process.env.VIRTKIT_REMOTE_QEMU_XML;
if (process.env.VIRTKIT_REMOTE_QEMU === '1' && qemuXml && existsSync(qemuXml)) {
  const template = readFileSync(qemuXml, 'utf8');
  runRemoteTestkit({
    driver: 'qemu',
    path: '/system',
    domainXml: (name, uuid) => template.replace(/NAME/g, name).replace(/<uuid>UUID<\/uuid>/, uuid ? `<uuid>${uuid}</uuid>` : ''),
    daemon: () => daemon,
    sshd: () => sshd,
    timeoutMs: 120_000,
  });
}
