/**
 * `<config>/network.conf` (libvirt's network.conf, virconf syntax): the
 * settings of the local network driver of one URI family.
 *
 *   netns = "vk-lab"          # run bridges, nftables and dnsmasq in this
 *                             # network namespace (it must exist)
 *   dnsmasq = "/usr/sbin/dnsmasq"
 *   autostart = 1             # 0: never autostart networks on first use
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { confGet, confString, parseConf } from '../conf.js';
import { VirtError } from '../errors.js';

export interface NetworkDriverSettings {
  netns?: string;
  dnsmasqBinary?: string;
  autostart: boolean;
}

export function networkConfPath(configDir: string): string {
  return join(configDir, 'network.conf');
}

/** Reads network.conf; a missing file means defaults, a malformed one CONF_SYNTAX. */
export async function readNetworkSettings(configDir: string): Promise<NetworkDriverSettings> {
  const path = networkConfPath(configDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { autostart: true };
    throw new VirtError('SYSTEM_ERROR', `cannot read ${path}: ${(err as Error).message}`, { origin: 'network', cause: err });
  }
  const entries = parseConf(text, { filename: path });
  const settings: NetworkDriverSettings = { autostart: true };
  const netns = confString(entries, 'netns');
  if (netns) settings.netns = netns;
  const dnsmasq = confString(entries, 'dnsmasq');
  if (dnsmasq) settings.dnsmasqBinary = dnsmasq;
  const auto = confGet(entries, 'autostart');
  if (auto) {
    if (auto.type !== 'int') throw new VirtError('CONF_SYNTAX', `${path}: 'autostart' must be 0 or 1`, { origin: 'network' });
    settings.autostart = auto.value !== 0n;
  }
  return settings;
}
