import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, type VirtError, type VirtEvent } from '@virtkit/core';
import { startDaemon, stopAllDaemons, type RunningDaemon } from '../test-support/daemon-process.js';
import { startSshd, type TestSshd } from '../test-support/sshd.js';

let d: RunningDaemon;
let sshd: TestSshd;

function sshUri(params: Record<string, string>, path = '/default', driver = 'stub'): string {
  const q = Object.entries({ socket: d.rw, ...params })
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return `${driver}+ssh://${sshd.user}@127.0.0.1:${sshd.port}${path}?${q}`;
}

async function fails(p: Promise<unknown>): Promise<VirtError> {
  const e = await p.then(
    (c) => {
      void (c as Connection).close();
      throw new Error('connected, but should not have');
    },
    (err: unknown) => err,
  );
  return e as VirtError;
}

beforeAll(async () => {
  d = await startDaemon();
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  await stopAllDaemons();
});

describe('+ssh transport against OpenSSH sshd', () => {
  it('reaches virtkitd through streamlocal forwarding with a key file and a checked host key', async () => {
    const c = await Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: sshd.knownHosts }));
    try {
      expect(await c.getHostname()).toBe('stubhost');
      const dom = await c.defineDomainXml('<domain><name>over-ssh</name></domain>');
      await dom.start();
      expect((await dom.getState()).state).toBe('running');
      await dom.destroy();
      await dom.undefine();
      expect(c.getUri()).toMatch(/^stub\+ssh:\/\//);
    } finally {
      await c.close();
    }
  });

  it('refuses a host missing from known_hosts, saying how to add it, unless told otherwise', async () => {
    const empty = join(sshd.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const e = await fails(Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: empty })));
    expect(e.code).toBe('AUTH_FAILED');
    expect(e.message).toMatch(/not in .*empty_known_hosts.*ssh-keyscan -p \d+ 127\.0\.0\.1/);

    const c = await Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: empty, no_verify: '1' }));
    await c.close();
    expect(readFileSync(empty, 'utf8')).toBe('');

    const auto = await Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: empty, known_hosts_verify: 'auto' }));
    await auto.close();
    expect(readFileSync(empty, 'utf8')).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `));
    // Now it is known: a normal check passes.
    const again = await Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: empty }));
    await again.close();
  });

  it('refuses a host whose key differs from known_hosts', async () => {
    const e = await fails(Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: sshd.wrongKnownHosts })));
    expect(e.code).toBe('AUTH_FAILED');
    expect(e.message).toMatch(/does not match .*wrong_known_hosts/);
  });

  it('asks the user on a terminal about an unknown host', async () => {
    const file = join(sshd.dir, 'ask_known_hosts');
    writeFileSync(file, '');
    const questions: string[] = [];
    const no = await fails(Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: file }), { prompt: async (q) => (questions.push(q), 'no') }));
    expect(no.code).toBe('AUTH_FAILED');
    expect(questions[0]).toMatch(/authenticity of host '\[127\.0\.0\.1\]:\d+'.*SHA256:/s);
    const yes = await Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: file }), { prompt: async () => 'yes' });
    await yes.close();
    expect(readFileSync(file, 'utf8')).toContain('ssh-ed25519');
  });

  it('fails with AUTH_FAILED for a key the server does not accept', async () => {
    const e = await fails(Connection.open(sshUri({ keyfile: sshd.strangerKey, known_hosts: sshd.knownHosts, sshauth: 'privkey' })));
    expect(e.code).toBe('AUTH_FAILED');
    expect(e.message).toMatch(/SSH authentication to .* failed \(tried publickey .*stranger/);
  });

  it('asks for the passphrase of an encrypted key when it can, and says so when it cannot', async () => {
    const params = { keyfile: sshd.encryptedKey, known_hosts: sshd.knownHosts, sshauth: 'privkey' };
    const noTty = await fails(Connection.open(sshUri(params)));
    expect(noTty.code).toBe('AUTH_FAILED');
    expect(noTty.message).toMatch(/encrypted and there is no terminal/);

    const wrong = await fails(Connection.open(sshUri(params), { prompt: async () => 'wrong' }));
    expect(wrong.message).toMatch(/wrong passphrase/);

    const asked: { q: string; secret: boolean }[] = [];
    const c = await Connection.open(sshUri(params), {
      prompt: async (q, o) => {
        asked.push({ q, secret: o.secret });
        return sshd.passphrase;
      },
    });
    try {
      expect(asked).toEqual([{ q: `Enter passphrase for key '${sshd.encryptedKey}': `, secret: true }]);
      expect(await c.getHostname()).toBe('stubhost');
    } finally {
      await c.close();
    }
  });

  it('authenticates with ssh-agent (SSH_AUTH_SOCK)', async () => {
    const sock = join(sshd.dir, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    const saved = process.env.SSH_AUTH_SOCK;
    try {
      for (let i = 0; i < 100; i++) {
        try {
          execFileSync('ssh-add', ['-q', sshd.userKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      process.env.SSH_AUTH_SOCK = sock;
      const c = await Connection.open(sshUri({ known_hosts: sshd.knownHosts, sshauth: 'agent' }));
      expect(await c.getHostname()).toBe('stubhost');
      await c.close();
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      agent.kill();
    }
  });

  it('says that no daemon answers on the remote side, and what to start', async () => {
    const e = await fails(Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: sshd.knownHosts, socket: '/run/no-virtkitd-here/sock' })));
    expect(e.code).toBe('NO_CONNECT');
    expect(e.message).toMatch(/no virtkitd answers at \/run\/no-virtkitd-here\/sock on 127\.0\.0\.1 .*start it on 127\.0\.0\.1: 'virtkitd'/);
  });

  it('asks the remote shell where the session daemon of /session listens', async () => {
    const uri = `stub+ssh://${sshd.user}@127.0.0.1:${sshd.port}/session?keyfile=${sshd.userKey}&known_hosts=${sshd.knownHosts}`;
    const e = await fails(Connection.open(uri));
    // sshd gives the login no XDG_RUNTIME_DIR here, so it is $HOME/.cache/virtkit/run of the remote user.
    const { userInfo } = await import('node:os');
    expect(e.message).toContain(`no virtkitd answers at ${userInfo().homedir}/.cache/virtkit/run/virtkit-sock on 127.0.0.1`);
  });

  it('says so when no SSH server listens', async () => {
    const e = await fails(Connection.open(`stub+ssh://root@127.0.0.1:1/default?keyfile=${sshd.userKey}`));
    expect(e.code).toBe('NO_CONNECT');
    expect(e.message).toMatch(/cannot reach the SSH server at 127\.0\.0\.1:1/);
  });

  it('carries events and read-only access over SSH', async () => {
    const watcher = await Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: sshd.knownHosts, socket: d.ro }), { readonly: true });
    const actor = await Connection.open(sshUri({ keyfile: sshd.userKey, known_hosts: sshd.knownHosts }));
    try {
      const seen: VirtEvent[] = [];
      watcher.on('domain', (e) => seen.push(e));
      const denied = await watcher.defineDomainXml('<domain><name>ro-ssh</name></domain>').catch((e: unknown) => e);
      expect((denied as VirtError).code).toBe('OPERATION_DENIED');
      const dom = await actor.defineDomainXml('<domain><name>ev-ssh</name></domain>');
      await dom.start();
      const end = Date.now() + 5000;
      while (!seen.some((e) => e.kind === 'domain' && e.type === 'started') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(seen.some((e) => e.kind === 'domain' && e.type === 'started' && e.domain.name === 'ev-ssh')).toBe(true);
      await dom.destroy();
      await dom.undefine();
    } finally {
      await watcher.close();
      await actor.close();
    }
  });
});
