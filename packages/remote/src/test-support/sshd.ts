import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, tempDir } from './daemon-process.js';

export interface TestSshd {
  dir: string;
  port: number;
  user: string;
  /** Unencrypted client key the server accepts. */
  userKey: string;
  /** Passphrase-protected client key (passphrase below) the server accepts. */
  encryptedKey: string;
  passphrase: string;
  /** A key the server does not accept. */
  strangerKey: string;
  /** known_hosts with the server's real key, and with another key for the same host. */
  knownHosts: string;
  wrongKnownHosts: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

function keygen(file: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'virtkit-test', '-f', file]);
}

async function waitPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`sshd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * OpenSSH's sshd on 127.0.0.1 with a per-run port, generated host and
 * user keys and its own config: public-key logins only, streamlocal
 * forwarding allowed (how +ssh URIs reach virtkitd's socket).
 */
export async function startSshd(): Promise<TestSshd> {
  const dir = tempDir('vkssh');
  const port = await freePort();
  const user = userInfo().username;
  // sshd's privilege-separation folder; harmless to leave.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  keygen(join(dir, 'host_ed25519'));
  keygen(join(dir, 'user_ed25519'));
  keygen(join(dir, 'user_enc'), 'correct horse');
  keygen(join(dir, 'stranger'));
  keygen(join(dir, 'other_host'));
  const pub = (f: string) => readFileSync(join(dir, `${f}.pub`), 'utf8').trim();
  writeFileSync(join(dir, 'authorized_keys'), `${pub('user_ed25519')}\n${pub('user_enc')}\n`);
  chmodSync(join(dir, 'authorized_keys'), 0o600);
  const hostPub = pub('host_ed25519').split(/\s+/).slice(0, 2).join(' ');
  const otherPub = pub('other_host').split(/\s+/).slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  writeFileSync(join(dir, 'wrong_known_hosts'), `[127.0.0.1]:${port} ${otherPub}\n`);
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    // The key files live under /tmp, which is world-writable.
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'AllowStreamLocalForwarding yes',
    // OpenSSH ties streamlocal forwarding to AllowTcpForwarding too (session.c): 'no' would deny it.
    'AllowTcpForwarding local',
    'X11Forwarding no',
    'LogLevel VERBOSE',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  const proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  try {
    await waitPort(port, 10000);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return {
    dir,
    port,
    user,
    userKey: join(dir, 'user_ed25519'),
    encryptedKey: join(dir, 'user_enc'),
    passphrase: 'correct horse',
    strangerKey: join(dir, 'stranger'),
    knownHosts: join(dir, 'known_hosts'),
    wrongKnownHosts: join(dir, 'wrong_known_hosts'),
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
