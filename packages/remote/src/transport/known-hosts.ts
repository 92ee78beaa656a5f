import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * OpenSSH's known_hosts format (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"):
 * `[@marker] patterns keytype base64-key [comment]`, where patterns are
 * comma-separated globs (`*`, `?`, `!negated`), `[host]:port` for other
 * ports than 22, or one hashed name `|1|base64(salt)|base64(hmac-sha1)`.
 */
export interface KnownHostEntry {
  marker?: 'cert-authority' | 'revoked';
  patterns: string;
  keyType: string;
  key: Buffer;
  line: number;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!.slice(1);
      if (m !== 'cert-authority' && m !== 'revoked') continue;
      marker = m;
    }
    if (fields.length < 3) continue;
    const [patterns, keyType, b64] = fields as [string, string, string];
    const key = Buffer.from(b64, 'base64');
    if (!key.length) continue;
    out.push({ ...(marker ? { marker } : {}), patterns, keyType, key, line: i + 1 });
  }
  return out;
}

/** The name a host is written under: `host`, or `[host]:port` for another port than 22. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (const c of glob) re += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`${re}$`, 'i');
}

function hashedMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('|');
  // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Whether an entry's patterns name this host (a negated match excludes it). */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let hit = false;
  for (const p of patterns.split(',')) {
    if (!p) continue;
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(name)) return false;
    } else if (globToRegExp(p).test(name)) hit = true;
  }
  return hit;
}

export type HostKeyVerdict = 'known' | 'unknown' | 'changed' | 'revoked';

/** Checks a presented host key (the raw SSH key blob) against entries. */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostName(host, port);
  let sawHost = false;
  let matched = false;
  for (const e of entries) {
    if (e.marker === 'cert-authority') continue;
    if (!patternsMatch(e.patterns, name)) continue;
    const same = e.key.equals(key);
    if (e.marker === 'revoked') {
      if (same) return 'revoked';
      continue;
    }
    sawHost = true;
    if (same) matched = true;
  }
  if (matched) return 'known';
  return sawHost ? 'changed' : 'unknown';
}

/** The key type named inside an SSH key blob (`ssh-ed25519`, …). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** OpenSSH's fingerprint form: `SHA256:base64` without padding. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function readKnownHosts(file: string): KnownHostEntry[] {
  try {
    return parseKnownHosts(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

/** Adds a host's key, as `ssh` does when a user accepts it. */
export function appendKnownHost(file: string, host: string, port: number, key: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${knownHostName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}
