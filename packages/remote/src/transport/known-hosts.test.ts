import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/daemon-process.js';
import { checkHostKey, fingerprint, keyTypeOf, parseKnownHosts, patternsMatch } from './known-hosts.js';

describe('known_hosts', () => {
  const dir = tempDir('vkkh');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'a')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'b')]);
  const pub = (n: string) => readFileSync(join(dir, `${n}.pub`), 'utf8').trim().split(/\s+/);
  const [typeA, keyA] = pub('a') as [string, string];
  const [, keyB] = pub('b') as [string, string];
  const blobA = Buffer.from(keyA, 'base64');
  const blobB = Buffer.from(keyB, 'base64');

  it('matches plain, port-qualified and wildcard entries', () => {
    const e = parseKnownHosts(`# comment\nhost1,10.0.0.1 ${typeA} ${keyA}\n[host2]:2222 ${typeA} ${keyA} comment\n*.example.com,!bad.example.com ${typeA} ${keyA}\n`);
    expect(e).toHaveLength(3);
    expect(checkHostKey(e, 'host1', 22, blobA)).toBe('known');
    expect(checkHostKey(e, '10.0.0.1', 22, blobA)).toBe('known');
    expect(checkHostKey(e, 'host2', 2222, blobA)).toBe('known');
    expect(checkHostKey(e, 'host2', 22, blobA)).toBe('unknown');
    expect(checkHostKey(e, 'a.example.com', 22, blobA)).toBe('known');
    expect(checkHostKey(e, 'bad.example.com', 22, blobA)).toBe('unknown');
    expect(checkHostKey(e, 'host1', 22, blobB)).toBe('changed');
    expect(patternsMatch('h?st', 'HOST')).toBe(true);
  });

  it('reads names hashed by ssh-keygen -H', () => {
    const file = join(dir, 'kh');
    writeFileSync(file, `[127.0.0.1]:2200 ${typeA} ${keyA}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^\|1\|/);
    const e = parseKnownHosts(text);
    expect(checkHostKey(e, '127.0.0.1', 2200, blobA)).toBe('known');
    expect(checkHostKey(e, '127.0.0.1', 22, blobA)).toBe('unknown');
    expect(checkHostKey(e, '127.0.0.1', 2200, blobB)).toBe('changed');
  });

  it('honours @revoked and skips @cert-authority', () => {
    const e = parseKnownHosts(`@revoked * ${typeA} ${keyA}\nhost1 ${typeA} ${keyA}\n@cert-authority *.x ${typeA} ${keyB}\n`);
    expect(checkHostKey(e, 'host1', 22, blobA)).toBe('revoked');
    expect(checkHostKey(e, 'h.x', 22, blobB)).toBe('unknown');
  });

  it('names key types and fingerprints as ssh does', () => {
    expect(keyTypeOf(blobA)).toBe('ssh-ed25519');
    const want = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'a.pub')], { encoding: 'utf8' }).split(/\s+/)[1];
    expect(fingerprint(blobA)).toBe(want);
    rmSync(dir, { recursive: true, force: true });
  });
});
