/**
 * The QEMU driver's DomainParserConfig: libvirt's virQEMUDriverDomainDefParserConfig
 * (post-parse callbacks, address assignment, validation, the qemu: namespace)
 * bound to one QEMU binary's capabilities and the driver settings.
 */
import type { DomainParserConfig } from '@virtkit/core';
import type { QemuCapabilities } from '../caps/index.js';
import { assignQemuAddresses } from './addresses.js';
import { defaultQemuDriverConfig, type QemuDriverConfig } from './config.js';
import { qemuXmlNamespace } from './namespace.js';
import { qemuDeviceDefPostParse, qemuDomainDefPostParse, type QemuDefaultsContext } from './postparse.js';
import { qemuValidateDevice, qemuValidateDomain } from './validate.js';

export interface QemuParserConfigOptions {
  config?: QemuDriverConfig;
  /** Host architecture (for the default emulator); x86_64 unless given. */
  hostArch?: string;
  /** Directory the qemu-system-* binaries are looked up in. */
  binDir?: string;
  /** TPM versions swtpm supports on this host (validation of <tpm> emulator backends). */
  swtpmVersions?: string[];
}

export function qemuEmulatorForArch(arch: string, binDir = '/usr/bin'): string {
  const name = arch === 'i686' ? 'i386' : arch === 'armv7l' || arch === 'armv6l' ? 'arm' : arch;
  return `${binDir}/qemu-system-${name}`;
}

/** The parser configuration of the QEMU driver for one set of capabilities. */
export function qemuParserConfig(caps: QemuCapabilities, opts: QemuParserConfigOptions = {}): DomainParserConfig {
  const config = opts.config ?? defaultQemuDriverConfig();
  const ctx: QemuDefaultsContext = { caps, config };
  return {
    name: 'qemu',
    features: {
      individualVcpus: true,
      userAlias: true,
      netModelString: true,
      fwAutoselect: true,
      offlineVcpupin: true,
      wideScsi: true,
    },
    domainTypes: ['qemu', 'kvm', 'hvf'],
    defaultEmulator: (def) => qemuEmulatorForArch(def.os.arch ?? opts.hostArch ?? 'x86_64', opts.binDir),
    domainPostParse: (def, o) => qemuDomainDefPostParse(def, o, ctx),
    devicePostParse: (dev, def, o) => qemuDeviceDefPostParse(dev, def, o, ctx),
    assignAddresses: (def, o) => assignQemuAddresses(def, caps, !!o.abiUpdate),
    validateDomain: (def, o) => qemuValidateDomain(def, o, { ...ctx, swtpmVersions: opts.swtpmVersions ?? ['1.2', '2.0'] }),
    validateDevice: (dev, def, o) => qemuValidateDevice(dev, def, o, { ...ctx, swtpmVersions: opts.swtpmVersions ?? ['1.2', '2.0'] }),
    namespaces: [qemuXmlNamespace],
    implicitVideoModel: () => '',
  };
}
