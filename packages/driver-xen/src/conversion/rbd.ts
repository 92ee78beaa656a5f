/**
 * Ceph RBD disks in xl.cfg: QEMU's colon syntax
 * `rbd:pool/image[@snap][:opt=value…]` with `\:`-escaped ports and `\;`
 * separated monitors, parsed like libvirt's
 * virStorageSourceParseRBDColonString and written like xenFormatXLDiskSrcNet.
 */
import { VirtError, type StorageHost, type StorageSource } from '@virtkit/core';
import { confError } from './conf-access.js';

function addHost(src: StorageSource, hostport: string): void {
  let hp = hostport;
  let portStr: string | undefined;
  const bracket = hp.indexOf(']');
  if (bracket >= 0) {
    // [ipv6]\:port
    portStr = hp.slice(bracket + 3);
    hp = hp.slice(1, bracket);
    if (hostport.length <= bracket + 1) portStr = undefined;
  } else {
    const p = hp.indexOf('\\:');
    if (p >= 0) {
      portStr = hp.slice(p + 2);
      hp = hp.slice(0, p);
    }
  }
  const host: StorageHost = { name: hp.split('\\:').join(':') };
  if (portStr !== undefined) {
    if (!/^[0-9]+$/.test(portStr) || Number(portStr) > 65535) throw confError(`failed to parse port number '${portStr}'`);
    if (Number(portStr) !== 0) host.port = Number(portStr);
  }
  (src.hosts ??= []).push(host);
}

/** Parses an `rbd:` target into a network disk source (the path keeps `pool/image`). */
export function parseRbdColonString(str: string): StorageSource {
  const src: StorageSource = { type: 'network', protocol: 'rbd' };
  let s = str.startsWith('rbd:') ? str.slice(4) : str;
  let options: string | undefined;
  const c = s.indexOf(':');
  if (c >= 0) {
    options = s.slice(c + 1);
    s = s.slice(0, c);
  }
  const at = s.indexOf('@');
  if (at >= 0) {
    src.snapshot = s.slice(at + 1);
    s = s.slice(0, at);
  }
  src.path = s;
  if (options === undefined) return src;
  let p = 0;
  while (p < options.length) {
    let e = p;
    while (e < options.length && options[e] !== ':') {
      if (options[e] === '\\') {
        e++;
        if (e >= options.length) break;
      }
      e++;
    }
    const kv = options.slice(p, e);
    const next = e >= options.length ? options.length : e + 1;
    if (kv.startsWith('id=')) {
      if (src.auth) throw confError(`duplicate 'id' found in '${src.path}'`);
      src.auth = { username: kv.slice(3), secret: { type: 'ceph' } };
    }
    if (kv.startsWith('mon_host=')) {
      const h = kv.slice('mon_host='.length);
      let start = 0;
      for (let i = 0; i <= h.length; i++) {
        if (i === h.length) {
          if (start < h.length) addHost(src, h.slice(start));
          break;
        }
        if (h[i] === '\\' && (h[i + 1] === ',' || h[i + 1] === ';' || h[i + 1] === ' ')) {
          addHost(src, h.slice(start, i));
          start = i + 2;
          i++;
        }
      }
    }
    if (kv.startsWith('conf=')) src.configFile = kv.slice(5);
    p = next;
  }
  return src;
}

/** Writes a network disk source as xl's `target=` value (only RBD is expressible). */
export function formatRbdColonString(src: StorageSource): string {
  if (src.protocol !== 'rbd') {
    throw new VirtError('NO_SUPPORT', `Unsupported network block protocol '${src.protocol ?? 'none'}' for xl.cfg`, { origin: 'xen' });
  }
  const full = src.path ?? '';
  const slash = full.indexOf('/');
  const image = slash >= 0 ? full.slice(slash + 1) : full;
  if (image.includes(':')) throw new VirtError('CONFIG_UNSUPPORTED', `':' not allowed in RBD source volume name '${image}'`, { origin: 'xen' });
  // libvirt concatenates "rbd:", volume, "/", image and stops at a missing volume.
  let s = slash >= 0 ? `rbd:${full}` : 'rbd:';
  s += ':auth_supported=none';
  const hosts = src.hosts ?? [];
  if (hosts.length) {
    s += ':mon_host=';
    s += hosts
      .map((h) => {
        const name = h.name ?? '';
        let x = name.includes(':') ? `[${name.replace(/:/g, '\\:')}]` : name;
        if (h.port) x += `\\\\:${h.port}`;
        return x;
      })
      .join('\\\\;');
  }
  return s;
}
