import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConformanceRoot, listAreas, runArea } from './runner.js';

/**
 * What each area passed when it was last raised. A change that makes an
 * area pass fewer of libvirt's cases fails here; raise a floor when an area
 * gets better.
 */
const FLOORS: Record<string, number> = {
  'domain-qemu-xml': 111,
  'domain-xml': 40,
  'lxc-config': 22,
  'lxc-xml': 11,
  'network-dnsmasq': 21,
  'network-xml': 39,
  'pool-commands': 25,
  'pool-xml': 28,
  'qemu-argv': 318,
  'vol-qemu-img': 21,
  'vol-xml': 19,
  'xen-xl': 72,
};

const root = defaultConformanceRoot();
const present = existsSync(root);

describe.skipIf(!present)(`libvirt 9.0 conformance (${root})`, () => {
  it('has a floor for every area in the data', () => {
    expect(listAreas(root).filter((a) => !(a in FLOORS))).toEqual([]);
  });

  for (const area of Object.keys(FLOORS)) {
    it(`${area} passes at least ${FLOORS[area]} cases`, async () => {
      const lines: string[] = [];
      const r = await runArea(area, join(root, area), (l) => lines.push(l));
      expect(lines.at(-1)).toBe(`${area}: ${r.passed}/${r.total} passed`);
      expect(r.passed, r.failures.map((f) => `${f.row.case} ${f.row.kind}: ${f.reason}`).join('\n')).toBeGreaterThanOrEqual(FLOORS[area]!);
    });
  }
});
