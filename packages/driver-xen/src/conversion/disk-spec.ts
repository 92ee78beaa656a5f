/**
 * xl's disk specification strings (xl-disk-configuration(5)): the parser
 * libxlutil's xlu_disk_parse implements with a flex scanner, reproduced rule
 * by rule (longest match wins, the earlier rule on a tie), and the
 * `format=…,vdev=…,access=…,target=…` form libvirt writes.
 */
import { VirtError } from '@virtkit/core';

export type XlDiskFormat = 'unknown' | 'raw' | 'qcow' | 'qcow2' | 'vhd' | 'empty' | 'qed';
export type XlDiskBackend = 'unknown' | 'phy' | 'tap' | 'qdisk' | 'standalone';

/** What libxl's libxl_device_disk holds after parsing one spec. */
export interface XlDiskSpec {
  /** `target`: the backing path (pdev_path); undefined for an empty CD-ROM. */
  target?: string;
  format: XlDiskFormat;
  vdev?: string;
  readwrite: boolean;
  isCdrom: boolean;
  removable: boolean;
  backend: XlDiskBackend;
  backendDomain?: string;
  script?: string;
  specification?: 'xen' | 'virtio';
  directIoSafe?: boolean;
  discard?: boolean;
  trusted?: boolean;
}

class DiskSpecError extends Error {}

interface Match {
  rule: number;
  /** Characters consumed (yytext). */
  len: number;
  /** Length the scanner compares, trailing context included. */
  total: number;
}

/** Rules named `key=[^,]*,?`, in scanner order, with their rule numbers. */
const KEYWORDS: Array<[number, string]> = [
  [1, 'format'], [5, 'devtype'], [6, 'access'], [7, 'backend'], [8, 'backendtype'], [9, 'specification'], [10, 'vdev'],
  [11, 'script'], [17, 'colo-host'], [18, 'colo-port'], [19, 'colo-export'], [20, 'active-disk'], [21, 'hidden-disk'],
];
/** Rules that are a literal with an optional comma. */
const FLAGS: Array<[number, string]> = [
  [2, 'cdrom'], [3, 'devtype=cdrom'], [4, 'devtype=disk'], [12, 'direct-io-safe'], [13, 'discard'], [14, 'no-discard'],
  [15, 'colo'], [16, 'no-colo'], [22, 'trusted'], [23, 'untrusted'], [24, 'grant_usage=1'], [25, 'grant_usage=0'],
];
const RULE_TARGET = 26;
const RULE_UNKNOWN_PARAM = 27;
/** Deprecated `prefix:` forms (each consumes only the prefix but compares as the rest of the line). */
const PREFIXES: Array<[number, RegExp]> = [
  [28, /^(raw|qcow2?|vhd):/],
  [29, /^(iscsi|e?nbd|drbd):/],
  [30, /^tapdisk:/],
  [31, /^tap2?:/],
  [32, /^aio:/],
  [33, /^ioemu:/],
  [34, /^file:/],
  [35, /^phy:/],
];
const RULE_UNKNOWN_PREFIX = 36;
const RULE_POSITIONAL = 37;
const RULE_ANY = 38;

function restOfLine(s: string, i: number): number {
  const nl = s.indexOf('\n', i);
  return (nl < 0 ? s.length : nl) - i;
}

function candidates(s: string, i: number): Match[] {
  const out: Match[] = [];
  const rest = s.slice(i);
  const withComma = (n: number) => (s[i + n] === ',' ? n + 1 : n);
  for (const [rule, key] of KEYWORDS) {
    if (!rest.startsWith(`${key}=`)) continue;
    const comma = s.indexOf(',', i + key.length + 1);
    const len = comma < 0 ? s.length - i : comma - i + 1;
    out.push({ rule, len, total: len });
  }
  for (const [rule, lit] of FLAGS) {
    if (!rest.startsWith(lit)) continue;
    const len = withComma(lit.length);
    out.push({ rule, len, total: len });
  }
  if (rest.startsWith('target=')) {
    const len = restOfLine(s, i);
    out.push({ rule: RULE_TARGET, len, total: len });
  }
  const up = /^[a-z][-a-z0-9]*=[^,]/.exec(rest);
  if (up) {
    const len = withComma(up[0].length);
    out.push({ rule: RULE_UNKNOWN_PARAM, len, total: len });
  }
  for (const [rule, re] of PREFIXES) {
    const m = re.exec(rest);
    if (m) out.push({ rule, len: m[0].length, total: restOfLine(s, i) });
  }
  const pre = /^[a-z][a-z0-9]*:/.exec(rest);
  if (pre) {
    const next = s[i + pre[0].length];
    const trailing = next !== undefined && next !== '\n' && !/[a-z0-9]/.test(next) ? restOfLine(s, i + pre[0].length) : 0;
    out.push({ rule: RULE_UNKNOWN_PREFIX, len: pre[0].length, total: pre[0].length + trailing });
  }
  let run = 0;
  while (i + run < s.length && s[i + run] !== '=' && s[i + run] !== ',') run++;
  if (s[i + run] === ',') out.push({ rule: RULE_POSITIONAL, len: run + 1, total: run + 1 });
  else if (run > 0) out.push({ rule: RULE_POSITIONAL, len: run, total: run });
  if (s[i] !== '\n') out.push({ rule: RULE_ANY, len: 1, total: 1 });
  return out;
}

function best(ms: Match[]): Match | undefined {
  let b: Match | undefined;
  for (const m of ms) if (!b || m.total > b.total || (m.total === b.total && m.rule < b.rule)) b = m;
  return b;
}

const FORMATS: Record<string, XlDiskFormat> = { '': 'raw', raw: 'raw', qcow: 'qcow', qcow2: 'qcow2', vhd: 'vhd', empty: 'empty', qed: 'qed' };
const BACKENDS: Record<string, XlDiskBackend> = { phy: 'phy', tap: 'tap', qdisk: 'qdisk', standalone: 'standalone' };

/** Parses one disk spec as xlu_disk_parse does; throws CONF_SYNTAX with xl's wording on a bad spec. */
export function parseXlDiskSpec(spec: string): XlDiskSpec {
  const disk: XlDiskSpec = { format: 'unknown', readwrite: true, isCdrom: false, removable: false, backend: 'unknown' };
  let hadDeprPrefix = false;
  let accessSet = false;
  const fail = (message: string, near?: string): never => {
    throw new DiskSpecError(`${message}${near !== undefined ? `: near \`${near}'` : ''}`);
  };
  const saveString = (what: string, key: 'target' | 'vdev' | 'script' | 'backendDomain', value: string) => {
    const cur = disk[key];
    if (cur) fail(`${what} respecified`, value);
    disk[key] = value;
  };
  const setFormat = (str: string) => {
    const f = FORMATS[str];
    if (!f) return fail('unknown value for format', str);
    if (disk.format !== 'unknown' && disk.format !== f) fail('format respecified', str);
    disk.format = f;
  };
  const setAccess = (str: string) => {
    if (str === 'r' || str === 'ro') disk.readwrite = false;
    else if (str === 'rw' || str === 'w' || str === '') disk.readwrite = true;
    else fail('unknown value for access', str);
  };
  const setBackend = (str: string) => {
    const b = BACKENDS[str];
    if (!b) return fail('unknown value for backendtype', str);
    if (disk.backend !== 'unknown' && disk.backend !== b) fail('backend respecified', str);
    disk.backend = b;
  };
  // A positional `vdev:devtype` (deprecated); true when it was one.
  const vdevAndDevtype = (str: string): boolean => {
    const colon = str.lastIndexOf(':');
    if (colon < 0) return false;
    saveString('vdev', 'vdev', str.slice(0, colon));
    const type = str.slice(colon + 1);
    if (type === 'cdrom') disk.isCdrom = true;
    else if (type === 'disk') disk.isCdrom = false;
    else fail('unknown deprecated type', type);
    return true;
  };

  try {
    let i = 0;
    while (i < spec.length) {
      if (/[ \t\n]/.test(spec[i]!)) {
        while (i < spec.length && /[ \t\n]/.test(spec[i]!)) i++;
        continue;
      }
      const m = best(candidates(spec, i));
      if (!m) break;
      let text = spec.slice(i, i + m.len);
      i += m.len;
      const strip = (c: string) => {
        if (text.endsWith(c)) text = text.slice(0, -1);
      };
      const value = () => text.slice(text.indexOf('=') + 1);
      switch (m.rule) {
        case 1: strip(','); setFormat(value()); break;
        case 2: case 3: disk.isCdrom = true; break;
        case 4: disk.isCdrom = false; break;
        case 5: fail('unknown value for type', text); break;
        case 6: strip(','); setAccess(value()); break;
        case 7: strip(','); saveString('backend', 'backendDomain', value()); break;
        case 8: strip(','); setBackend(value()); break;
        case 9: {
          strip(',');
          const v = value();
          if (v !== 'xen' && v !== 'virtio') fail('unknown value for specification', v);
          disk.specification = v as 'xen' | 'virtio';
          break;
        }
        case 10: strip(','); saveString('vdev', 'vdev', value()); break;
        case 11: strip(','); saveString('script', 'script', value()); break;
        case 12: disk.directIoSafe = true; break;
        case 13: disk.discard = true; break;
        case 14: disk.discard = false; break;
        case 15: case 16: case 17: case 19: case 20: case 21: case 24: case 25: break; // COLO and grant settings: not modelled
        case 18: strip(','); if (!(parseInt(value(), 10) > 0)) fail('unknown value for colo_port', value()); break;
        case 22: disk.trusted = true; break;
        case 23: disk.trusted = false; break;
        case RULE_TARGET: strip(','); saveString('target', 'target', value()); break;
        case RULE_UNKNOWN_PARAM: fail('unknown parameter', text); break;
        case 28: strip(':'); hadDeprPrefix = true; setFormat(text); break;
        case 29: strip(':'); hadDeprPrefix = true; saveString('script', 'script', `block-${text}`); break;
        case 30: case 31: case 32: case 33: case 34: case 35: hadDeprPrefix = true; break;
        case RULE_UNKNOWN_PREFIX: fail('unknown deprecated disk prefix', text); break;
        case RULE_POSITIONAL: {
          strip(',');
          if (disk.target === undefined) saveString('target', 'target', text);
          else if (!hadDeprPrefix && disk.format === 'unknown') {
            if (!disk.target && vdevAndDevtype(text)) disk.format = 'empty';
            else setFormat(text);
          } else if (disk.vdev === undefined) {
            if (!vdevAndDevtype(text)) saveString('vdev', 'vdev', text);
          } else if (!accessSet) {
            accessSet = true;
            setAccess(text);
          } else fail('too many positional parameters', text);
          break;
        }
        default: fail('bad disk syntax', spec.slice(i - m.len));
      }
    }
    if (disk.format === 'unknown') disk.format = 'raw';
    if (disk.isCdrom) {
      disk.removable = true;
      disk.readwrite = false;
      if (!disk.target) disk.format = 'empty';
    }
    if (!disk.vdev) fail('no vdev specified');
    if (disk.target === undefined && !disk.removable) fail('no target specified (and device not removable)');
  } catch (err) {
    if (err instanceof DiskSpecError) {
      throw new VirtError('CONF_SYNTAX', `xl.cfg: config parsing error in disk specification: ${err.message} in \`${spec}'`, { origin: 'xen' });
    }
    throw err;
  }
  return disk;
}
