import type { PeerCertificate } from 'node:tls';

type Subject = PeerCertificate['subject'];

const ORDER = ['C', 'ST', 'L', 'O', 'OU', 'CN', 'emailAddress'];

/**
 * A certificate subject as text, `C=GB,ST=London,O=Example,CN=client1`
 * (libvirt's examples use this order). Attributes the list does not know
 * follow in the certificate's order.
 */
export function formatDn(subject: Subject | undefined): string {
  if (!subject) return '';
  const s = subject as unknown as Record<string, string | string[]>;
  const keys = [...ORDER.filter((k) => k in s), ...Object.keys(s).filter((k) => !ORDER.includes(k))];
  const parts: string[] = [];
  for (const k of keys) {
    const v = s[k];
    for (const x of Array.isArray(v) ? v : [v]) parts.push(`${k}=${x}`);
  }
  return parts.join(',');
}

function globMatch(glob: string, text: string): boolean {
  let re = '^';
  for (const c of glob) re += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`${re}$`).test(text);
}

/**
 * Whether a client certificate's subject is on the allow-list. Each entry
 * is a glob matched against the whole DN (in either order: `C=…,…,CN=…`
 * or `CN=…,…,C=…`) or, without any `=`, against the CN alone. An empty
 * list allows every certificate the CA signed (as libvirt does).
 */
export function dnAllowed(subject: Subject | undefined, allowList: string[]): boolean {
  if (!allowList.length) return true;
  const dn = formatDn(subject);
  const reversed = dn.split(',').reverse().join(',');
  const cnRaw = (subject as unknown as Record<string, string | string[]> | undefined)?.CN;
  const cns = cnRaw === undefined ? [] : Array.isArray(cnRaw) ? cnRaw : [cnRaw];
  return allowList.some((g) => (g.includes('=') ? globMatch(g, dn) || globMatch(g, reversed) : cns.some((cn) => globMatch(g, cn))));
}
