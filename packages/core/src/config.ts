import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { confString, confStringList, parseConf } from './conf.js';

/** What virtkit.conf may set. */
export interface VirtkitConfig {
  /** The file read, when there was one. */
  file?: string;
  /** `uri_default`: the URI used when none is given. */
  uriDefault?: string;
  /** `plugins`: extra plugin packages (absolute folders or package names). */
  plugins: string[];
}

/** /etc/virtkit/virtkit.conf for root, $XDG_CONFIG_HOME/virtkit/virtkit.conf for anyone else. */
export function virtkitConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VIRTKIT_CONFIG) return env.VIRTKIT_CONFIG;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root) return '/etc/virtkit/virtkit.conf';
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'virtkit', 'virtkit.conf');
}

/** Reads the config file; a missing file is an empty config, a malformed one a CONF_SYNTAX error. */
export function readVirtkitConfig(path = virtkitConfigPath()): VirtkitConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { plugins: [] };
  }
  const entries = parseConf(text, { filename: path });
  const cfg: VirtkitConfig = { file: path, plugins: confStringList(entries, 'plugins') ?? [] };
  const uri = confString(entries, 'uri_default');
  if (uri) cfg.uriDefault = uri;
  return cfg;
}

/**
 * The URI to open when the caller names none, as libvirt picks it:
 * VIRTKIT_DEFAULT_URI, LIBVIRT_DEFAULT_URI, `uri_default` in the config
 * file, else undefined (the caller then probes installed drivers).
 */
export function configuredDefaultUri(env: NodeJS.ProcessEnv = process.env, config?: VirtkitConfig): string | undefined {
  if (env.VIRTKIT_DEFAULT_URI) return env.VIRTKIT_DEFAULT_URI;
  if (env.LIBVIRT_DEFAULT_URI) return env.LIBVIRT_DEFAULT_URI;
  const cfg = config ?? readVirtkitConfig();
  return cfg.uriDefault;
}
