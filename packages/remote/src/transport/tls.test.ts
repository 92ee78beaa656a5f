import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, type VirtError } from '@virtkit/core';
import { freePort, startDaemon, stopAllDaemons, tempDir, type RunningDaemon } from '../test-support/daemon-process.js';
import { makeTestPki, type TestPki } from '../test-support/pki.js';

let d: RunningDaemon;
let pki: TestPki;
let tlsPort: number;
let tcpPort: number;

beforeAll(async () => {
  const dir = tempDir('vktls');
  pki = makeTestPki(join(dir, 'pki'));
  tlsPort = await freePort();
  tcpPort = await freePort();
  d = await startDaemon({
    dir,
    args: ['--listen-tls', `127.0.0.1:${tlsPort}`, '--listen-tcp', `127.0.0.1:${tcpPort}`],
    config: [
      `ca_file = "${pki.ca.cert}"`,
      `cert_file = "${pki.server.cert}"`,
      `key_file = "${pki.server.key}"`,
      'tls_allowed_dn_list = [ "O=virtkit-test,CN=client1" ]',
    ].join('\n'),
  });
});
afterAll(async () => {
  await stopAllDaemons();
  const { rmSync } = await import('node:fs');
  if (d) rmSync(d.dir, { recursive: true, force: true });
});

const tlsUri = (client: string, host = 'localhost', extra = '') => `stub+tls://${host}:${tlsPort}/default?pkipath=${pki.clients[client]}${extra}`;

describe('+tls transport with client certificates', () => {
  it('serves a client whose certificate is on the allow-list', async () => {
    const c = await Connection.open(tlsUri('client1', 'localhost'));
    try {
      expect(await c.getHostname()).toBe('stubhost');
      const dom = await c.defineDomainXml('<domain><name>over-tls</name></domain>');
      await dom.undefine();
    } finally {
      await c.close();
    }
    await d.waitLog((l) => l.msg === 'client connected' && l.access === 'tls' && l.identity === 'O=virtkit-test,CN=client1');
  });

  it('refuses a certificate of the right CA that the allow-list does not name, and logs it', async () => {
    const e = (await Connection.open(tlsUri('intruder')).catch((err: unknown) => err)) as VirtError;
    expect(e.code).toBe('ACCESS_DENIED');
    expect(e.message).toMatch(/CN=intruder.*not allowed/);
    await d.waitLog((l) => l.msg === 'refused' && l.access === 'tls' && l.identity === 'O=virtkit-test,CN=intruder');
  });

  it('refuses a certificate of another CA in the TLS handshake, and logs it', async () => {
    const e = (await Connection.open(tlsUri('foreign')).catch((err: unknown) => err)) as VirtError;
    expect(['AUTH_FAILED', 'NO_CONNECT', 'RPC']).toContain(e.code);
    await d.waitLog((l) => l.msg === 'refused' && l.access === 'tls' && /TLS handshake failed/.test(String(l.reason)));
  });

  it('checks the server certificate against the host name unless no_verify=1', async () => {
    // The certificate names localhost, not 127.0.0.1.
    const e = (await Connection.open(tlsUri('client1', '127.0.0.1')).catch((err: unknown) => err)) as VirtError;
    expect(e.code).toBe('AUTH_FAILED');
    expect(e.message).toMatch(/127\.0\.0\.1/);
    const c = await Connection.open(tlsUri('client1', '127.0.0.1', '&no_verify=1'));
    await c.close();
  });

  it('says which file is missing when the client has no certificates', async () => {
    const e = (await Connection.open(`stub+tls://localhost:${tlsPort}/default?pkipath=/nonexistent`).catch((err: unknown) => err)) as VirtError;
    expect(e.code).toBe('AUTH_FAILED');
    expect(e.message).toMatch(/\/nonexistent\/cacert\.pem/);
  });
});

describe('+tcp transport (explicitly enabled)', () => {
  it('gives read-only access unless tcp_readonly = 0', async () => {
    const c = await Connection.open(`stub+tcp://127.0.0.1:${tcpPort}/default`);
    try {
      expect(await c.getHostname()).toBe('stubhost');
      const e = (await c.defineDomainXml('<domain><name>tcp</name></domain>').catch((err: unknown) => err)) as VirtError;
      expect(e.code).toBe('OPERATION_DENIED');
    } finally {
      await c.close();
    }
    await d.waitLog((l) => l.msg === 'refused' && l.access === 'tcp' && l.proc === 'domains.defineDomain');
  });

  it('is off unless asked for', async () => {
    const e = (await Connection.open(`stub+tcp://127.0.0.1:${await freePort()}/default`).catch((err: unknown) => err)) as VirtError;
    expect(e.code).toBe('NO_CONNECT');
    expect(e.message).toMatch(/--listen-tcp/);
  });
});
