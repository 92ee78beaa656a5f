import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainDef } from '@virtkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { fillFirmware, loadFirmwareDescriptors } from './firmware.js';

const dir = mkdtempSync(join(tmpdir(), 'virtkit-fw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flash = (code: string, features: string[]) => JSON.stringify({
  'interface-types': ['uefi'],
  mapping: { device: 'flash', executable: { filename: code, format: 'raw' }, 'nvram-template': { filename: '/fw/VARS.fd', format: 'raw' } },
  targets: [{ architecture: 'x86_64', machines: ['pc-q35-*'] }],
  features,
});
writeFileSync(join(dir, '50-secure.json'), flash('/fw/CODE.secboot.fd', ['requires-smm', 'secure-boot']));
writeFileSync(join(dir, '60-plain.json'), flash('/fw/CODE.fd', []));
writeFileSync(join(dir, '70-bios.json'), JSON.stringify({
  'interface-types': ['bios'], mapping: { device: 'memory', filename: '/fw/bios.bin' }, targets: [{ architecture: 'x86_64', machines: ['pc-*'] }], features: [],
}));

const domain = (firmware: string, machine: string, features?: Array<{ name: string; enabled: boolean }>) =>
  ({ name: 'vm', os: { firmware, arch: 'x86_64', machine, ...(features ? { firmwareFeatures: features } : {}) } }) as unknown as DomainDef;

describe('firmware autoselection', () => {
  const fws = loadFirmwareDescriptors([dir]);

  it('reads descriptors in file name order', () => {
    expect(fws.map((f) => f.path.split('/').pop())).toEqual(['50-secure.json', '60-plain.json', '70-bios.json']);
  });

  it('takes the first match and turns on SMM for secure boot images', () => {
    const def = domain('efi', 'pc-q35-8.0');
    fillFirmware(def, fws, '/nvram');
    expect(def.os.loader).toMatchObject({ type: 'pflash', readonly: true, path: '/fw/CODE.secboot.fd', secure: true });
    expect(def.os.nvram).toMatchObject({ path: '/nvram/vm_VARS.fd', template: '/fw/VARS.fd' });
    expect(def.features?.states.smm).toBe(true);
  });

  it('honours firmware feature requests', () => {
    const def = domain('efi', 'pc-q35-8.0', [{ name: 'secure-boot', enabled: false }]);
    fillFirmware(def, fws, '/nvram');
    expect(def.os.loader?.path).toBe('/fw/CODE.fd');
  });

  it('maps BIOS images to a ROM loader, and fails when nothing fits', () => {
    const def = domain('bios', 'pc-i440fx-8.0');
    fillFirmware(def, fws, '/nvram');
    expect(def.os.loader).toMatchObject({ type: 'rom', path: '/fw/bios.bin' });
    expect(() => fillFirmware(domain('efi', 'pc-i440fx-8.0'), fws, '/nvram')).toThrow(/Unable to find any firmware/);
  });
});
