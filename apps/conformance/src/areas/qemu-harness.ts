/**
 * What libvirt's qemuxml2xml/qemuxml2argv harnesses set up, as options of
 * the QEMU driver's API: the newest x86_64 caps dump with machine aliases
 * stripped, the fake driver config (libDir /tmp/lib, channel dir
 * /tmp/channel, TLS/SASL switches from cfg.* args, env.* overrides).
 */
import { join } from 'node:path';
import { QemuCapabilities, defaultQemuDriverConfig, loadLibvirtCapsDump, type QemuDriverConfig } from '@virtkit/driver-qemu';
import type { CaseContext } from '../area.js';

const capsCache = new Map<string, Promise<QemuCapabilities>>();

/** virQEMUCapsStripMachineAliases: each alias becomes a machine of its own. */
function stripMachineAliases(caps: QemuCapabilities): QemuCapabilities {
  const data = structuredClone(caps.data);
  for (const accel of [data.kvm, data.tcg]) {
    const added = [];
    for (const m of accel.machines) {
      if (!m.alias) continue;
      const alias = m.alias;
      delete m.alias;
      added.push({ ...m, name: alias });
    }
    accel.machines.push(...added);
  }
  return new QemuCapabilities(data);
}

/** The caps named by the row's caps= arg (looked up next to the qemu-argv data). */
export function harnessCaps(ctx: CaseContext): Promise<QemuCapabilities> {
  const name = ctx.row.args.caps ?? 'caps_8.0.0.x86_64';
  const dir = join(ctx.dir, '..', 'qemu-argv');
  const key = join(dir, name);
  let p = capsCache.get(key);
  if (!p) {
    p = loadLibvirtCapsDump(`${key}.xml`, `${key}.replies`).then(stripMachineAliases);
    capsCache.set(key, p);
  }
  return p;
}

function truthy(v: string | undefined): boolean {
  return v === '1' || v === 'true' || v === 'yes';
}

/** qemu.conf as the harness sets it, with the row's cfg.* / env.* deviations. */
export function harnessConfig(ctx: CaseContext): QemuDriverConfig {
  const a = ctx.row.args;
  const cfg = defaultQemuDriverConfig({
    libDir: '/tmp/lib',
    hugetlbfs: [
      { mnt: '/dev/hugepages2M', size: 2048, default: true },
      { mnt: '/dev/hugepages1G', size: 1048576 },
    ],
    spiceTLS: true,
    spicePassword: '123456',
  });
  cfg.channelTargetDir = '/tmp/channel';
  cfg.nvramDir = '/var/lib/libvirt/qemu/nvram';
  cfg.memoryBackingDir = '/var/lib/libvirt/qemu/ram';
  // testutilsqemu.c puts a comma in these to exercise escaping.
  cfg.nbdTLSx509certdir = '/etc/pki/libvirt-nbd/dummy,path';
  cfg.vxhsTLSx509certdir = '/etc/pki/libvirt-vxhs/dummy,path';
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(a)) {
    if (k.startsWith('env.')) env[k.slice(4)] = v;
    if (!k.startsWith('cfg.')) continue;
    const key = k.slice(4) as keyof QemuDriverConfig;
    const cur = cfg[key];
    (cfg as unknown as Record<string, unknown>)[key] = typeof cur === 'boolean' || cur === undefined && /TLS$|SASL$|verify$|Socket$|Audio$/.test(key) ? truthy(v) : v;
  }
  cfg.env = env;
  return cfg;
}

/** TPM versions the fake swtpm offers (env.VIR_TEST_MOCK_FAKE_TPM_VERSION narrows them). */
export function harnessSwtpmVersions(ctx: CaseContext): string[] {
  const v = ctx.row.args['env.VIR_TEST_MOCK_FAKE_TPM_VERSION'];
  return v ? [v] : ['1.2', '2.0'];
}
