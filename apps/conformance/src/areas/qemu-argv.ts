import { parseDomainXml, parseStoragePoolXml, type StoragePoolDef } from '@virtkit/core';
import { buildQemuCommandLine, formatQemuArgs, qemuParserConfig, type QemuFakeFds } from '@virtkit/driver-qemu';
import type { ConformanceArea } from '../area.js';
import { harnessCaps, harnessConfig, harnessSwtpmVersions } from './qemu-harness.js';

/** The descriptor numbers libvirt's qemuxml2argv mocks hand out. */
const FAKE_FDS: QemuFakeFds = {
  monitor: 1729,
  chardevListen: 1729,
  vhostUserGpu: 1729,
  chardevFile: 1750,
  chardevLog: 1751,
  tpm: 1730,
  tpmCancel: 1731,
  vdpa: 1732,
  tapStart: 3,
  vhostNetStart: 44,
  vsockVhost: 6789,
};

/** Every secret lookup of the harness returns this value. */
const SECRET_VALUE = 'AQCVn5hO6HzFAhAAq0NCv8jtJcIcE+HOBlMQ1A';
const MASTER_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const IV = Uint8Array.from({ length: 16 }, (_, i) => i);

/**
 * The harness's fake storage driver: volume "TYPE+NAME" is a TYPE volume
 * at /some/TYPE/device/NAME; a plain name is a block volume.
 */
function fakeVolume(_pool: string, name: string): { type: 'file' | 'block' | 'dir'; path: string } {
  const plus = name.indexOf('+');
  const type = plus < 0 ? 'block' : name.slice(0, plus);
  const vol = plus < 0 ? name : name.slice(plus + 1);
  return { type: type as 'file' | 'block' | 'dir', path: `/some/${type}/device/${vol}` };
}

/**
 * libvirt's qemuxml2argv: the input parsed inactive with the QEMU driver's
 * defaults, then the command line of a start with domain id -1, fixed
 * descriptors, secrets, master key and a frozen clock.
 */
const area: ConformanceArea = {
  name: 'qemu-argv',
  compare: 'argv',
  async run(ctx) {
    const args = ctx.row.args;
    const caps = await harnessCaps(ctx);
    const config = harnessConfig(ctx);
    // The harness runs the driver unprivileged with XDG_RUNTIME_DIR unset.
    config.stateDir = '/bad-test-used-env-xdg-runtime-dir/libvirt/qemu/run';
    const swtpmVersions = harnessSwtpmVersions(ctx);
    const parserConfig = qemuParserConfig(caps, { config, swtpmVersions });
    // virrandommock: "random" bytes are 0, 1, 2, …
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
    const def = parseDomainXml(ctx.readFile(ctx.row.input), { inactive: true, config: parserConfig, randomBytes });
    if (ctx.row.args.stage === 'parse') return 'parsed without error';

    const fdGroups: Record<string, number[]> = {};
    const pools = new Map<string, StoragePoolDef>();
    for (const [k, v] of Object.entries(args)) {
      if (k.startsWith('fdgroup.')) fdGroups[k.slice(8)] = v.split(',').map(Number);
      if (k.startsWith('pool.')) pools.set(k.slice(5), parseStoragePoolXml(ctx.readFile(v)));
    }
    const flags = (args.flags ?? '').split(',');
    const cmd = buildQemuCommandLine(def, caps, {
      config,
      domainId: -1,
      fakeFds: FAKE_FDS,
      vsockAutoCid: 42,
      lookupSecret: () => SECRET_VALUE,
      masterKey: MASTER_KEY,
      secretIv: () => IV,
      now: () => 1234567890,
      // TZ=VIR00:30: local time is 30 minutes behind UTC.
      localUtcOffset: () => -1800,
      fdGroups,
      lookupPool: (name) => pools.get(name),
      lookupVolume: fakeVolume,
      hostFips: flags.includes('FIPS_HOST'),
      hostNumaNodes: [0, 1, 2, 3, 4, 5, 6, 7],
      swtpmVersions,
      swtpmSocketPath: '/dev/test',
      // The harness's mock treats only /dev/cdrom as an optical drive.
      isCdrom: (path) => path === '/dev/cdrom',
      drmRenderNode: () => '/dev/dri/foo',
      scsiGenericName: () => 'sg0',
      // The harness's firmware descriptors are not part of the data.
      firmwareDescriptors: [],
      env: { USER: 'test', LOGNAME: 'test', PATH: '/bin' },
    });
    return formatQemuArgs(cmd);
  },
};

export default area;
