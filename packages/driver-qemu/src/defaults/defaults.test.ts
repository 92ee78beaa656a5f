import { join } from 'node:path';
import { parseDomainXml, sharedDataDir } from '@virtkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLibvirtCapsDump } from '../caps/from-xml.js';
import type { QemuCapabilities } from '../caps/capabilities.js';
import { qemuParserConfig } from './parser-config.js';

const DUMP_DIR = sharedDataDir('conformance/qemu-argv');

const domain = (machine: string, devices: string, extra = '') => `<domain type='qemu'>
  <name>t</name><memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='${machine}'>hvm</type></os>${extra}
  <devices>${devices}</devices>
</domain>`;

describe.skipIf(!DUMP_DIR)('QEMU define-time defaults and validation', () => {
  let caps: QemuCapabilities;
  beforeAll(async () => {
    caps = await loadLibvirtCapsDump(join(DUMP_DIR!, 'caps_8.0.0.x86_64.xml'), join(DUMP_DIR!, 'caps_8.0.0.x86_64.replies'));
  });
  const parse = (xml: string, swtpmVersions?: string[]) =>
    parseDomainXml(xml, { inactive: true, config: qemuParserConfig(caps, swtpmVersions ? { swtpmVersions } : {}) });

  it('gives q35 guests PCIe root ports for their devices', () => {
    const def = parse(domain('q35', "<interface type='user'><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>"));
    expect(def.os.machine).toBe('pc-q35-8.0');
    const models = def.devices.controllers.filter((c) => c.type === 'pci').map((c) => c.model);
    expect(models[0]).toBe('pcie-root');
    expect(models).toContain('pcie-root-port');
    const nic = def.devices.interfaces[0]!;
    expect(nic.info.address).toMatchObject({ type: 'pci', slot: 0 });
    expect(nic.info.address && 'bus' in nic.info.address && nic.info.address.bus).toBeGreaterThan(0);
  });

  it('puts i440fx devices on slots of bus 0 after the PIIX3 functions', () => {
    const def = parse(domain('pc', "<disk type='file'><source file='/a.img'/><target dev='vda' bus='virtio'/></disk>"));
    expect(def.devices.disks[0]!.info.address).toMatchObject({ type: 'pci', bus: 0, slot: 2 });
    expect(def.devices.controllers.find((c) => c.type === 'usb')?.info.address).toMatchObject({ slot: 1, function: 2 });
  });

  it('refuses devices the machine type cannot have', () => {
    expect(() => parse(domain('pc', "<iommu model='intel'/>"))).toThrow(/only supported with Q35 machines/);
    expect(() => parse(domain('pc', "<watchdog model='itco' action='reset'/>"))).toThrow(/only part of q35 machine/);
    expect(() => parse(domain('q35', "<input type='keyboard' bus='virtio' model='virtio-transitional'/>"))).toThrow(/transitional/);
  });

  it('checks TPM versions against what swtpm offers', () => {
    const tpm = "<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>";
    expect(() => parse(domain('q35', tpm), ['2.0'])).not.toThrow();
    expect(() => parse(domain('q35', tpm), ['1.2'])).toThrow(/TPM version '2.0' is not supported/);
  });

  it('refuses storage formats QEMU does not open directly', () => {
    const disk = (fmt: string) => `<disk type='file'><driver name='qemu' type='${fmt}'/><source file='/a'/><target dev='vda' bus='virtio'/></disk>`;
    expect(() => parse(domain('pc', disk('iso')))).toThrow(/use 'raw' instead/);
    expect(() => parse(domain('pc', disk('raw')))).not.toThrow();
  });
});
