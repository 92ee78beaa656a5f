// Small helpers the benchmarks share: timing, statistics, and the printed
// ratio lines (virtkit / limit, virtkit / libvirt).
import { spawnSync } from 'node:child_process';

export function now() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs fn `n` times (after `warmup` runs) and returns per-run milliseconds. */
export async function measure(fn, n, warmup = 1) {
  for (let i = 0; i < warmup; i++) await fn(i);
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    await fn(i);
    times.push(now() - t);
  }
  return times;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}

/** Prints one comparison line: the three medians and the two ratios. */
export function report(label, virtkitMs, limitMs, libvirtMs) {
  const f = (x) => (Number.isFinite(x) ? `${x.toFixed(3)} ms` : 'n/a');
  const r = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
  console.log(
    `${label.padEnd(40)} virtkit ${f(virtkitMs).padStart(12)}  limit ${f(limitMs).padStart(12)}  libvirt ${f(libvirtMs).padStart(12)}  ` +
      `vs limit ${r(virtkitMs, limitMs).padStart(7)}  vs libvirt ${r(virtkitMs, libvirtMs).padStart(7)}`,
  );
}

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Installs Debian packages for a peer measurement when they are missing (root only). */
export function ensureDebianPackages(pkgs) {
  const missing = pkgs.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p]).stdout?.toString().includes('ok installed') !== true);
  if (!missing.length) return true;
  if (process.getuid?.() !== 0) return false;
  console.log(`(installing ${missing.join(' ')} for the libvirt side)`);
  const r = spawnSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing.join(' ')} >/dev/null 2>&1`]);
  return r.status === 0;
}
