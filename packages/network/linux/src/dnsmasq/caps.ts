/**
 * dnsmasq capabilities: libvirt reads them from `dnsmasq --version` and
 * refuses dnsmasq older than 2.67. Since libvirt 8.x every feature it uses
 * is in 2.67, so the version only gates, it does not change the config.
 */
import { execFile } from 'node:child_process';
import { VirtError } from '@virtkit/core';

export interface DnsmasqCaps {
  /** major * 1 000 000 + minor * 1 000 + micro (libvirt's encoding). */
  version: number;
  binaryPath?: string;
}

/** The oldest dnsmasq libvirt 9.0 accepts. */
export const DNSMASQ_MIN_VERSION = 2_067_000;

const VERSION_PREFIX = 'Dnsmasq version ';

function encodeVersion(text: string): number | undefined {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  const [maj, min, mic] = [m[1], m[2] ?? '0', m[3] ?? '0'].map(Number) as [number, number, number];
  if (min > 999 || mic > 999) return undefined;
  return maj * 1_000_000 + min * 1_000 + mic;
}

/** "2.67" → 2067000. */
export function formatDnsmasqVersion(version: number): string {
  return `${Math.floor(version / 1_000_000)}.${Math.floor((version % 1_000_000) / 1_000)}`;
}

function checkMinimum(caps: DnsmasqCaps): DnsmasqCaps {
  if (caps.version < DNSMASQ_MIN_VERSION) {
    throw new VirtError(
      'CONFIG_UNSUPPORTED',
      `dnsmasq version >= ${formatDnsmasqVersion(DNSMASQ_MIN_VERSION)} required but ${formatDnsmasqVersion(caps.version)} found`,
      { origin: 'network.dnsmasq' },
    );
  }
  return caps;
}

/** Caps from the output of `dnsmasq --version` ("Dnsmasq version 2.89  Copyright …"). */
export function parseDnsmasqVersionOutput(output: string, binaryPath = 'dnsmasq'): DnsmasqCaps {
  const rest = output.startsWith(VERSION_PREFIX) ? output.slice(VERSION_PREFIX.length).replace(/^[^0-9]*/, '') : undefined;
  const version = rest === undefined ? undefined : encodeVersion(rest);
  if (version === undefined) {
    const firstLine = output.split('\n')[0] ?? '';
    throw new VirtError('INTERNAL_ERROR', `cannot parse ${binaryPath} version number in '${firstLine}'`, { origin: 'network.dnsmasq' });
  }
  return checkMinimum({ version, binaryPath });
}

/** Caps for a known version string such as "2.67" (what libvirt's tests fake). */
export function dnsmasqCapsFromVersion(version: string): DnsmasqCaps {
  return parseDnsmasqVersionOutput(VERSION_PREFIX + version);
}

/** Runs `<binary> --version` and parses it. */
export function probeDnsmasqCaps(binary = 'dnsmasq', timeoutMs = 10_000): Promise<DnsmasqCaps> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['--version'], { timeout: timeoutMs, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (err, stdout) => {
      if (err) {
        reject(new VirtError('SYSTEM_ERROR', `cannot run '${binary} --version': ${err.message}`, { origin: 'network.dnsmasq', cause: err }));
        return;
      }
      try {
        resolve(parseDnsmasqVersionOutput(stdout, binary));
      } catch (e) {
        reject(e);
      }
    });
  });
}
