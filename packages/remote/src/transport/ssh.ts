import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { VirtError } from '@virtkit/core';
import type { AnyAuthMethod, AuthenticationType, Client, ClientChannel, ConnectConfig, ParsedKey } from 'ssh2';
import { appendKnownHost, checkHostKey, fingerprint, keyTypeOf, knownHostName, readKnownHosts } from './known-hosts.js';
import { startHint, type Transport } from './transport.js';

export type Prompt = (question: string, opts: { secret: boolean }) => Promise<string>;

export interface SshOptions {
  host: string;
  port: number;
  user?: string;
  /** Private key file (`keyfile=`); else the agent and ~/.ssh/id_{ed25519,ecdsa,rsa}. */
  keyfile?: string;
  /** known_hosts file (`known_hosts=`); default ~/.ssh/known_hosts. */
  knownHosts?: string;
  /** `normal` (refuse unknown hosts unless the user accepts on a terminal), `auto` (add unknown ones), `ignore`. */
  verify: 'normal' | 'auto' | 'ignore';
  /** Daemon socket on the remote host; a function asks the remote side (session sockets). */
  socket: string | ((exec: (cmd: string) => Promise<string>) => Promise<string>);
  /** `sshauth=` order: `agent`, `privkey`, `password`, `keyboard-interactive`. */
  authOrder?: string[];
  prompt?: Prompt;
  timeoutMs?: number;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

type Ssh2 = typeof import('ssh2');

async function loadSsh2(): Promise<Ssh2> {
  try {
    const mod = (await import('ssh2')) as Ssh2 & { default?: Ssh2 };
    return mod.default ?? mod;
  } catch (err) {
    throw new VirtError('NO_SUPPORT', `the ssh2 package is needed for +ssh URIs: ${(err as Error).message}`, { origin: 'remote', cause: err });
  }
}

/**
 * Reaches a virtkitd on another host through SSH: authenticates with a key
 * file, the agent, or a password/passphrase asked on the terminal; checks
 * the host key against known_hosts; then opens a channel to the daemon's
 * unix socket there (OpenSSH's direct-streamlocal forwarding).
 */
export async function connectSsh(o: SshOptions): Promise<Transport> {
  const ssh2 = await loadSsh2();
  const username = o.user ?? userInfo().username;
  const where = `${username}@${o.host}:${o.port}`;
  const home = process.env.HOME || homedir();
  const knownHostsFile = o.knownHosts ?? join(home, '.ssh', 'known_hosts');
  const tried: string[] = [];
  const problems: string[] = [];
  let hostKeyProblem: string | undefined;

  const client: Client = new ssh2.Client();

  const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
    if (o.verify === 'ignore') return verify(true);
    const entries = readKnownHosts(knownHostsFile);
    const verdict = checkHostKey(entries, o.host, o.port, key);
    const fp = `${keyTypeOf(key)} ${fingerprint(key)}`;
    const name = knownHostName(o.host, o.port);
    if (verdict === 'known') return verify(true);
    if (verdict === 'revoked') {
      hostKeyProblem = `the host key of ${name} (${fp}) is marked revoked in ${knownHostsFile}`;
      return verify(false);
    }
    if (verdict === 'changed') {
      hostKeyProblem =
        `the host key of ${name} does not match ${knownHostsFile} (it offered ${fp}): ` +
        'someone may be intercepting the connection, or the host key changed; fix the entry if the change is expected';
      return verify(false);
    }
    if (o.verify === 'auto') {
      appendKnownHost(knownHostsFile, o.host, o.port, key);
      return verify(true);
    }
    const refuse = () => {
      hostKeyProblem =
        `host ${name} is not in ${knownHostsFile} (it offered ${fp}); add it (ssh-keyscan -p ${o.port} ${o.host} >> ${knownHostsFile}), ` +
        'or use known_hosts_verify=auto, or no_verify=1 to skip the check';
      verify(false);
    };
    if (!o.prompt) return refuse();
    o.prompt(`The authenticity of host '${name}' can't be established.\n${fp}.\nAre you sure you want to continue connecting (yes/no)? `, { secret: false }).then(
      (a) => {
        if (/^y(es)?$/i.test(a.trim())) {
          appendKnownHost(knownHostsFile, o.host, o.port, key);
          verify(true);
        } else refuse();
      },
      () => refuse(),
    );
  };

  // Authentication methods, tried in order until one works.
  const order = o.authOrder?.length ? o.authOrder : ['privkey', 'agent', 'keyboard-interactive', 'password'];
  const queue: (() => Promise<AnyAuthMethod | undefined>)[] = [];
  for (const m of order) {
    if (m === 'agent' && process.env.SSH_AUTH_SOCK) {
      queue.push(async () => {
        tried.push('agent');
        return { type: 'agent', username, agent: process.env.SSH_AUTH_SOCK! };
      });
    } else if (m === 'privkey') {
      const files = o.keyfile ? [o.keyfile] : DEFAULT_KEYS.map((k) => join(home, '.ssh', k)).filter((f) => existsSync(f));
      for (const file of files) queue.push(() => keyMethod(ssh2, file, username, o.prompt, tried, problems));
    } else if (m === 'keyboard-interactive' && o.prompt) {
      const ask = o.prompt;
      queue.push(async () => {
        tried.push('keyboard-interactive');
        return {
          type: 'keyboard-interactive',
          username,
          prompt: (_name, _instr, _lang, prompts, finish) => {
            (async () => {
              const answers: string[] = [];
              for (const p of prompts) answers.push(await ask(p.prompt, { secret: !p.echo }));
              finish(answers);
            })().catch(() => finish([]));
          },
        };
      });
    } else if (m === 'password' && o.prompt) {
      const ask = o.prompt;
      queue.push(async () => {
        tried.push('password');
        const password = await ask(`${where}'s password: `, { secret: true });
        return { type: 'password', username, password };
      });
    }
  }
  const authHandler = (_left: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void): void => {
    (async () => {
      while (queue.length) {
        const m = await queue.shift()!();
        if (m) return next(m);
      }
      next(false);
    })().catch(() => next(false));
  };

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end();
      reject(new VirtError('NO_CONNECT', `SSH connection to ${where} timed out`, { origin: 'remote' }));
    }, o.timeoutMs ?? 30000);
    client.once('ready', () => {
      clearTimeout(timer);
      client.removeAllListeners('error');
      client.on('error', () => {});
      resolve();
    });
    client.once('error', (err: Error & { level?: string; code?: string }) => {
      clearTimeout(timer);
      client.end();
      if (hostKeyProblem) {
        reject(new VirtError('AUTH_FAILED', `SSH to ${where}: ${hostKeyProblem}`, { origin: 'remote', cause: err }));
      } else if (err.level === 'client-authentication') {
        const detail = [tried.length ? `tried ${tried.join(', ')}` : 'no key, agent or terminal to authenticate with', ...problems].join('; ');
        reject(new VirtError('AUTH_FAILED', `SSH authentication to ${where} failed (${detail})`, { origin: 'remote', cause: err }));
      } else if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH' || err.code === 'ETIMEDOUT') {
        reject(new VirtError('NO_CONNECT', `cannot reach the SSH server at ${o.host}:${o.port}: ${err.message}`, { origin: 'remote', cause: err }));
      } else {
        reject(new VirtError('NO_CONNECT', `SSH connection to ${where} failed: ${err.message}`, { origin: 'remote', cause: err }));
      }
    });
    const cfg: ConnectConfig = {
      host: o.host,
      port: o.port,
      username,
      hostVerifier,
      authHandler: authHandler as unknown as ConnectConfig['authHandler'],
      readyTimeout: o.timeoutMs ?? 30000,
      keepaliveInterval: 0,
    };
    client.connect(cfg);
  });

  const exec = (cmd: string): Promise<string> =>
    new Promise((resolve, reject) => {
      client.exec(cmd, (err, ch) => {
        if (err) return reject(err);
        let out = '';
        ch.on('data', (d: Buffer) => (out += d.toString('utf8')));
        ch.stderr.resume();
        ch.on('close', () => resolve(out));
      });
    });

  let socketPath: string;
  try {
    socketPath = typeof o.socket === 'string' ? o.socket : await o.socket(exec);
  } catch (err) {
    client.end();
    throw new VirtError('NO_CONNECT', `SSH to ${where}: cannot find the daemon socket there: ${(err as Error).message}`, { origin: 'remote', cause: err });
  }

  const channel = await new Promise<ClientChannel>((resolve, reject) => {
    client.openssh_forwardOutStreamLocal(socketPath, (err, ch) => {
      if (!err) return resolve(ch);
      client.end();
      const reason = (err as Error & { reason?: number }).reason;
      if (reason === 1) {
        reject(
          new VirtError('NO_CONNECT', `the SSH server at ${o.host}:${o.port} refused to forward to ${socketPath} (AllowStreamLocalForwarding is off in its sshd_config)`, {
            origin: 'remote',
            cause: err,
          }),
        );
      } else {
        // sshd answers "open failed" both when nothing listens there and when its forwarding settings deny the path.
        reject(
          new VirtError(
            'NO_CONNECT',
            `no virtkitd answers at ${socketPath} on ${o.host} (${err.message}): ${startHint(`on ${o.host}`)}; ` +
              `if it runs, check that sshd allows forwarding there (AllowStreamLocalForwarding yes, AllowTcpForwarding not 'no')`,
            { origin: 'remote', cause: err },
          ),
        );
      }
    });
  });
  channel.once('close', () => client.end());
  return {
    socket: channel,
    label: `virtkitd on ${o.host} (ssh ${where}, ${socketPath})`,
    dispose: () => client.end(),
  };
}

/** A public-key method from a key file, asking for its passphrase when it is encrypted and a terminal is there. */
async function keyMethod(ssh2: Ssh2, file: string, username: string, prompt: Prompt | undefined, tried: string[], problems: string[]): Promise<AnyAuthMethod | undefined> {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    problems.push(`cannot read key ${file}: ${(err as Error).message}`);
    return undefined;
  }
  let parsed: ParsedKey | ParsedKey[] | Error = ssh2.utils.parseKey(data);
  if (parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message)) {
    if (!prompt) {
      problems.push(`key ${file} is encrypted and there is no terminal to ask its passphrase (use the agent)`);
      return undefined;
    }
    const pass = await prompt(`Enter passphrase for key '${file}': `, { secret: true });
    parsed = ssh2.utils.parseKey(data, pass);
    if (parsed instanceof Error) {
      problems.push(`wrong passphrase for key ${file}`);
      return undefined;
    }
  } else if (parsed instanceof Error) {
    problems.push(`key ${file} is not a private key ssh2 can read: ${parsed.message}`);
    return undefined;
  }
  tried.push(`publickey ${file}`);
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  return { type: 'publickey', username, key };
}
