import type { ConformanceArea } from '../area.js';

/**
 * The areas virtkit implements, loaded on demand. An area folder with no
 * entry here still runs: every row fails as "not implemented".
 */
export const AREAS: Record<string, () => Promise<ConformanceArea>> = {
  'pool-xml': () => import('./pool-xml.js').then((m) => m.default),
  'vol-xml': () => import('./vol-xml.js').then((m) => m.default),
  'vol-qemu-img': () => import('./vol-qemu-img.js').then((m) => m.default),
  'pool-commands': () => import('./pool-commands.js').then((m) => m.default),
  'network-xml': () => import('./network-xml.js').then((m) => m.default),
  'network-dnsmasq': () => import('./network-dnsmasq.js').then((m) => m.default),
  'domain-xml': () => import('./domain-xml.js').then((m) => m.default),
  'lxc-xml': () => import('./lxc-xml.js').then((m) => m.default),
  'xen-xl': () => import('./xen-xl.js').then((m) => m.default),
  'domain-qemu-xml': () => import('./domain-qemu-xml.js').then((m) => m.default),
  'qemu-argv': () => import('./qemu-argv.js').then((m) => m.default),
  'lxc-config': () => import('./lxc-config.js').then((m) => m.default),
};
