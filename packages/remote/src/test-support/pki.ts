import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  ca: { cert: string; key: string };
  server: { cert: string; key: string };
  /** pkipath folders (cacert.pem, clientcert.pem, clientkey.pem) per client name. */
  clients: Record<string, string>;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A certificate signed by `ca` for `subject`, with extensions from `ext`. */
function issue(dir: string, name: string, subject: string, ext: string, ca: { cert: string; key: string }): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', subject], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', extFile], dir);
  return { cert, key };
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/O=virtkit-test/CN=${name}`], dir);
  return { cert, key };
}

/**
 * A test CA with a server certificate for localhost and client
 * certificates: `client1` (O=virtkit-test), `intruder` (same CA, another
 * name) and `foreign` (signed by another CA).
 */
export function makeTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  const server = issue(dir, 'server', '/O=virtkit-test/CN=localhost', 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n', ca);
  const clients: Record<string, string> = {};
  for (const [name, subject, signer] of [
    ['client1', '/O=virtkit-test/CN=client1', ca],
    ['intruder', '/O=virtkit-test/CN=intruder', ca],
    ['foreign', '/O=virtkit-test/CN=client1', other],
  ] as const) {
    const c = issue(dir, name, subject, 'extendedKeyUsage=clientAuth\n', signer);
    const p = join(dir, `pki-${name}`);
    mkdirSync(p);
    copyFileSync(ca.cert, join(p, 'cacert.pem'));
    copyFileSync(c.cert, join(p, 'clientcert.pem'));
    copyFileSync(c.key, join(p, 'clientkey.pem'));
    clients[name] = p;
  }
  return { dir, ca, server, clients };
}
