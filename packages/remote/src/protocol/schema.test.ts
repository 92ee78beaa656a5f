import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from '../test-support/daemon-process.js';
import { PROCEDURES } from './schema.js';

describe('the procedure table', () => {
  it('is what docs/protocol.md lists, row for row', () => {
    const doc = readFileSync(join(PACKAGE_DIR, '..', '..', 'docs', 'protocol.md'), 'utf8');
    const rows = new Map<string, string>();
    for (const m of doc.matchAll(/^\| `([a-z]+\.[A-Za-z]+)` \| (.*) \|$/gm)) rows.set(m[1]!, m[2]!);
    expect([...rows.keys()].sort()).toEqual([...PROCEDURES.keys()].sort());
    for (const p of PROCEDURES.values()) {
      const [args, changes] = rows.get(p.name)!.split(' | ');
      expect(args, p.name).toBe(p.args.length ? p.args.map((a) => `\`${a}\``).join(', ') : '—');
      expect(changes === 'yes', p.name).toBe(p.modify);
    }
  });

  it('covers every method of the driver contract', () => {
    // The driver contract as core declares it: a method missing here would not cross the wire.
    const src = readFileSync(join(PACKAGE_DIR, '..', 'core', 'src', 'driver.ts'), 'utf8');
    const methodsOf = (iface: string) => {
      const body = new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`).exec(src)![1]!;
      return [...body.matchAll(/^ {2}([a-zA-Z]+)\??\(/gm)].map((m) => m[1]!);
    };
    const want = [
      ...methodsOf('DomainDriver').map((m) => `domains.${m}`),
      ...methodsOf('NetworkDriver').map((m) => `networks.${m}`),
      ...methodsOf('StorageDriver').map((m) => `storage.${m}`),
      ...methodsOf('InterfaceDriver').map((m) => `interfaces.${m}`),
      // close: connect.close; startAutostart: the daemon's own hook, not a client's call.
      ...methodsOf('HypervisorDriver').filter((m) => m !== 'close' && m !== 'startAutostart').map((m) => `host.${m}`),
    ];
    expect(want.length).toBeGreaterThan(60);
    expect(want.filter((n) => !PROCEDURES.has(n))).toEqual([]);
  });
});
