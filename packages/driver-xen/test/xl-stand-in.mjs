#!/usr/bin/env node
/**
 * An `xl` STAND-IN for tests. It is not Xen and runs no guest: it keeps a
 * fake host's domains in a JSON file under $XL_STANDIN_DIR and answers the
 * xl commands the Xen driver uses with xl's documented output formats
 * (tools/xl/xl_info.c: `xl info` "key : value" lines, the `xl list` table,
 * the `xl list -l` JSON array of { domid, config }) and xl's messages and
 * exit status for unknown domains ("… is an invalid domain identifier
 * (rc=-6)", "Error: Domain '…' does not exist.").
 *
 * It proves the driver sends the right commands and reads real xl output
 * formats; it does not prove that Xen boots anything.
 *
 * Environment: XL_STANDIN_DIR (required, the state folder),
 * XL_STANDIN_NO_HYPERVISOR=1 (answer like xl on a host without Xen).
 * Every invocation is appended to $XL_STANDIN_DIR/calls.log.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';

const dir = process.env.XL_STANDIN_DIR;
const argv = process.argv.slice(2);
// A reader that stops early (xl … | head) is not an error.
process.stdout.on('error', () => process.exit(0));
const out = (s) => process.stdout.write(s);
const err = (s) => process.stderr.write(s);
let held = false;
function die(msg, code = 1) {
  if (held) unlock();
  err(msg.endsWith('\n') ? msg : `${msg}\n`);
  process.exit(code);
}

if (!dir) die('xl stand-in: XL_STANDIN_DIR is not set');
mkdirSync(dir, { recursive: true });
appendFileSync(join(dir, 'calls.log'), `${JSON.stringify(argv)}\n`);

if (process.env.XL_STANDIN_NO_HYPERVISOR === '1') {
  // What xl prints when libxl cannot reach a hypervisor.
  die(
    'xencall: error: Could not obtain handle on privileged command interface: No such file or directory\n' +
      'libxl: error: libxl.c:102:libxl_ctx_alloc: cannot open libxc handle: No such file or directory\n' +
      'cannot init xl context',
  );
}

// ---------------------------------------------------------------- state, under a lock

const statePath = join(dir, 'state.json');
const lockPath = join(dir, 'state.lock');

function lock() {
  for (let i = 0; i < 2000; i++) {
    try {
      mkdirSync(lockPath);
      held = true;
      return;
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  die('xl stand-in: state lock timeout');
}
function unlock() {
  held = false;
  try {
    rmdirSync(lockPath);
  } catch {
    /* already gone */
  }
}
function load() {
  if (!existsSync(statePath)) return { nextDomid: 1, domains: [] };
  return JSON.parse(readFileSync(statePath, 'utf8'));
}
function save(st) {
  writeFileSync(`${statePath}.tmp`, JSON.stringify(st, null, 2));
  renameSync(`${statePath}.tmp`, statePath);
}

// ---------------------------------------------------------------- a small xl.cfg reader

function parseCfg(text) {
  const cfg = {};
  let i = 0;
  const ws = () => {
    while (i < text.length) {
      if (/[ \t\r\n]/.test(text[i])) i++;
      else if (text[i] === '#') while (i < text.length && text[i] !== '\n') i++;
      else break;
    }
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === '[') {
      i++;
      const items = [];
      ws();
      while (text[i] !== ']') {
        items.push(value());
        ws();
        if (text[i] === ',') i++;
        ws();
        if (i >= text.length) throw new Error('list is not closed');
      }
      i++;
      return items;
    }
    const m = /^[-+]?[0-9]+/.exec(text.slice(i));
    if (!m) throw new Error(`unexpected '${c}'`);
    i += m[0].length;
    return Number(m[0]);
  };
  for (;;) {
    ws();
    if (i >= text.length) break;
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!m) throw new Error(`expected a setting name at offset ${i}`);
    i += m[0].length;
    ws();
    if (text[i] !== '=') throw new Error(`expected '=' after ${m[0]}`);
    i++;
    cfg[m[0]] = value();
    ws();
    if (text[i] === ';') i++;
  }
  return cfg;
}

function readCfgFile(file) {
  err(`Parsing config from ${file}\n`);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    die(`Failed to read config file: ${file}: ${e.message}`);
  }
  try {
    return parseCfg(text);
  } catch (e) {
    die(`${file}:1: config parsing error near \`${e.message}': syntax error`);
  }
}

/** The vdev of a disk spec (target,format,vdev,access or vdev=…). */
function diskVdev(spec) {
  const named = /(?:^|,)\s*vdev=([^,]*)/.exec(spec);
  if (named) return named[1];
  const positional = spec.replace(/target=.*$/, '').split(',').filter((p) => !p.includes('='));
  return positional[2]?.split(':')[0];
}

function diskJson(spec) {
  const get = (k) => new RegExp(`(?:^|,)\\s*${k}=([^,]*)`).exec(spec)?.[1];
  const target = /(?:^|,)\s*target=(.*)$/.exec(spec)?.[1] ?? spec.split(',')[0];
  return {
    pdev_path: target,
    vdev: diskVdev(spec),
    backend: get('backendtype') ?? 'unknown',
    format: get('format') ?? 'raw',
    readwrite: get('access') === 'ro' ? 0 : 1,
    is_cdrom: get('devtype') === 'cdrom' ? 1 : 0,
  };
}

function macFrom(spec) {
  return /(?:^|,)\s*mac=([^,]*)/.exec(spec)?.[1] ?? `00:16:3e:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

function nicJson(spec, devid) {
  const get = (k) => new RegExp(`(?:^|,)\\s*${k}=([^,]*)`).exec(spec)?.[1];
  const nic = { devid, mac: macFrom(spec), nictype: get('type') === 'ioemu' ? 'vif_ioemu' : 'vif' };
  if (get('bridge')) nic.bridge = get('bridge');
  if (get('script')) nic.script = get('script');
  if (get('model')) nic.model = get('model');
  return nic;
}

/** libxl_domain_config as xl prints it (the parts a tool reads). */
function domainConfig(cfg) {
  const type = cfg.type ?? (cfg.builder === 'hvm' ? 'hvm' : 'pv');
  const maxVcpus = Number(cfg.maxvcpus ?? cfg.vcpus ?? 1);
  const vcpus = Number(cfg.vcpus ?? 1);
  const memory = Number(cfg.memory ?? 128);
  const maxmem = Number(cfg.maxmem ?? memory);
  const b_info = {
    max_vcpus: maxVcpus,
    avail_vcpus: Array.from({ length: vcpus }, (_, i) => i),
    max_memkb: maxmem * 1024,
    target_memkb: memory * 1024,
    type: { [type]: {} },
  };
  if (cfg.kernel) b_info.kernel = cfg.kernel;
  if (cfg.ramdisk) b_info.ramdisk = cfg.ramdisk;
  if (cfg.cmdline) b_info.cmdline = cfg.cmdline;
  if (cfg.bootloader) b_info.bootloader = cfg.bootloader;
  return {
    c_info: { type, name: cfg.name, uuid: cfg.uuid ?? randomUUID(), run_hotplug_scripts: 'True' },
    b_info,
    disks: (cfg.disk ?? []).map(diskJson),
    nics: (cfg.vif ?? []).map((v, i) => nicJson(v, i)),
    on_poweroff: cfg.on_poweroff ?? 'destroy',
    on_reboot: cfg.on_reboot ?? 'restart',
    on_crash: cfg.on_crash ?? 'destroy',
  };
}

// ---------------------------------------------------------------- domain lookup as xl's find_domain does

function findDomain(st, q) {
  if (/^[0-9]+$/.test(q)) {
    const d = st.domains.find((x) => x.domid === Number(q));
    if (!d) die(`libxl: error: libxl_domain.c:1565:libxl__destroy_domid: Domain ${q}:Non-existant domain`);
    return d;
  }
  const d = st.domains.find((x) => x.config.c_info.name === q);
  if (!d) die(`${q} is an invalid domain identifier (rc=-6)`);
  return d;
}

function flags(d) {
  if (d.state === 'paused') return '--p---';
  if (d.state === 'shutdown') return '---s--';
  return 'r-----';
}

function newDomain(st, config, paused) {
  if (st.domains.some((d) => d.config.c_info.name === config.c_info.name)) {
    die(`libxl: error: libxl_create.c:690:libxl__domain_make: Domain ${st.nextDomid}:Domain with name "${config.c_info.name}" already exists.`, 3);
  }
  if (st.domains.some((d) => d.config.c_info.uuid === config.c_info.uuid)) {
    die(`libxl: error: libxl_create.c:1227:initiate_domain_create: Domain ${st.nextDomid}:domain with uuid ${config.c_info.uuid} already exists`, 3);
  }
  const t = config.c_info.type;
  if (t !== 'hvm' && !config.b_info.kernel && !config.b_info.bootloader) {
    die(`libxl: error: libxl_create.c:1254:initiate_domain_create: Domain ${st.nextDomid}:${t} guest requires a kernel or a bootloader`, 3);
  }
  const d = { domid: st.nextDomid++, config, state: paused ? 'paused' : 'running', created: Date.now() };
  st.domains.push(d);
  return d;
}

// ---------------------------------------------------------------- commands

const [cmd, ...args] = argv;
const flagsOf = (list, known) => {
  const f = new Set();
  const rest = [];
  for (const a of list) (known.includes(a) ? f.add(a) : rest.push(a));
  return { f, rest };
};

function info() {
  const total = 16384;
  const st = load();
  const used = st.domains.reduce((a, d) => a + d.config.b_info.target_memkb / 1024, 0) + 2048;
  const lines = [
    ['host', 'xl-stand-in'],
    ['release', '6.1.0-xen'],
    ['version', '#1 SMP'],
    ['machine', 'x86_64'],
    ['nr_cpus', '4'],
    ['max_cpu_id', '3'],
    ['nr_nodes', '1'],
    ['cores_per_socket', '2'],
    ['threads_per_core', '2'],
    ['cpu_mhz', '2400.000'],
    ['hw_caps', 'bfebfbff:77fafbff:2c100800:00000121:0000000f:009c6fbf:00000000:00000100'],
    ['virt_caps', ' hvm hvm_directio directio'],
    ['total_memory', String(total)],
    ['free_memory', String(Math.max(0, Math.floor(total - used)))],
    ['sharing_freed_memory', '0'],
    ['sharing_used_memory', '0'],
    ['outstanding_claims', '0'],
    ['free_cpus', '0'],
    ['xen_major', '4'],
    ['xen_minor', '17'],
    ['xen_extra', '.3'],
    ['xen_version', '4.17.3'],
    ['xen_caps', 'xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64'],
    ['xen_scheduler', 'credit2'],
    ['xen_pagesize', '4096'],
    ['platform_params', 'virt_start=0xffff800000000000'],
    ['xen_changeset', ''],
    ['xen_commandline', 'placeholder'],
    ['cc_compiler', 'gcc (Debian 12.2.0-14) 12.2.0'],
    ['cc_compile_by', 'stand-in'],
    ['cc_compile_domain', 'invalid'],
    ['cc_compile_date', 'Thu Jan  1 00:00:00 UTC 2024'],
    ['build_id', '0000000000000000000000000000000000000000'],
    ['xend_config_format', '4'],
  ];
  const only = args[0];
  for (const [k, v] of lines) {
    if (only) {
      if (k.startsWith(only)) out(`${v}\n`);
    } else out(`${k.padEnd(23)}: ${v}\n`);
  }
}

function list() {
  const { f, rest } = flagsOf(args, ['-l', '--long', '-v', '--verbose']);
  const st = load();
  let doms = st.domains;
  if (rest.length === 1) {
    const q = rest[0];
    if (/^[0-9]+$/.test(q)) {
      doms = doms.filter((d) => d.domid === Number(q));
      if (!doms.length && q !== '0') die(`Error: Domain '${q}' does not exist.`);
    } else {
      const d = doms.find((x) => x.config.c_info.name === q);
      if (!d) die(`${q} is an invalid domain identifier (rc=-6)`);
      doms = [d];
    }
  }
  if (f.has('-l') || f.has('--long')) {
    // Domain-0 has no stored configuration, so xl list -l leaves it out.
    out(`${JSON.stringify(doms.map((d) => ({ domid: d.domid, config: d.config })), null, 4)}\n`);
    return;
  }
  out('Name                                        ID   Mem VCPUs\tState\tTime(s)\n');
  const row = (name, id, mem, vcpus, fl, time) => out(`${name.padEnd(40)} ${String(id).padStart(5)} ${String(mem).padStart(5)} ${String(vcpus).padStart(5)}     ${fl}  ${time.toFixed(1).padStart(8)}\n`);
  if (rest.length === 0 || rest[0] === '0' || rest[0] === 'Domain-0') row('Domain-0', 0, 2048, 4, 'r-----', 1234.5);
  for (const d of doms) {
    const secs = d.state === 'paused' ? 0.5 : (Date.now() - d.created) / 1000 / 10;
    row(d.config.c_info.name, d.domid, Math.floor(d.config.b_info.target_memkb / 1024), d.config.b_info.avail_vcpus.length, flags(d), secs);
  }
}

/** Runs `fn` on the state under the lock and saves it. */
function mutate(fn) {
  lock();
  try {
    const st = load();
    const r = fn(st);
    save(st);
    return r;
  } finally {
    unlock();
  }
}

function removeDomain(st, d) {
  st.domains = st.domains.filter((x) => x !== d);
}

function memKb(s) {
  const m = /^([0-9]+)([bkmgtBKMGT]?)$/.exec(s);
  if (!m) die(`invalid memory size: ${s}`);
  let kb = Number(m[1]);
  switch (m[2].toLowerCase()) {
    case 't': kb *= 1024 * 1024 * 1024; break;
    case 'g': kb *= 1024 * 1024; break;
    case '': case 'm': kb *= 1024; break;
    case 'k': break;
    case 'b': kb = Math.floor(kb / 1024); break;
  }
  return kb;
}

function needArgs(n, usage) {
  if (args.filter((a) => !a.startsWith('-')).length < n) die(`Usage: xl ${usage}`, 2);
}

const SAVE_MAGIC = 'Xen saved domain, xl format\n \0 \r';

switch (cmd) {
  case 'info':
    info();
    break;
  case 'list':
    list();
    break;
  case 'domid': {
    needArgs(1, 'domid <DomainName>');
    const d = load().domains.find((x) => x.config.c_info.name === args[0]);
    if (args[0] === 'Domain-0') out('0\n');
    else if (!d) die(`Can't get domid of domain name '${args[0]}', maybe this domain does not exist.`);
    else out(`${d.domid}\n`);
    break;
  }
  case 'domname': {
    needArgs(1, 'domname <DomainId>');
    const d = load().domains.find((x) => x.domid === Number(args[0]));
    if (!d) die(`Can't get domain name of domain id '${args[0]}', maybe this domain does not exist.`);
    out(`${d.config.c_info.name}\n`);
    break;
  }
  case 'create': {
    const { f, rest } = flagsOf(args, ['-p', '-q', '-c', '-e', '-V']);
    if (!rest[0]) die('Usage: xl create <ConfigFile> [options] [vars]', 2);
    const cfg = readCfgFile(rest[0]);
    if (!cfg.name) die('Domain name must be specified.');
    mutate((st) => newDomain(st, domainConfig(cfg), f.has('-p')));
    break;
  }
  case 'shutdown':
  case 'reboot': {
    const { rest } = flagsOf(args, ['-w', '-F', '-a']);
    if (!rest[0]) die(`Usage: xl ${cmd} [options] <Domain>`, 2);
    mutate((st) => {
      const d = findDomain(st, rest[0]);
      err(`${cmd === 'shutdown' ? 'Shutting down' : 'Rebooting'} domain ${d.domid}\n`);
      // The stand-in's "guest" obeys at once, then the toolstack applies on_poweroff / on_reboot.
      const action = cmd === 'shutdown' ? d.config.on_poweroff : d.config.on_reboot;
      if (action === 'restart') d.domid = st.nextDomid++;
      else if (action === 'preserve') d.state = 'shutdown';
      else removeDomain(st, d);
    });
    break;
  }
  case 'destroy':
    needArgs(1, 'destroy <Domain>');
    mutate((st) => {
      if (args[0] === '0' || args[0] === 'Domain-0') die('Cannot destroy privileged domain 0.');
      removeDomain(st, findDomain(st, args[0]));
    });
    break;
  case 'pause':
  case 'unpause':
    needArgs(1, `${cmd} <Domain>`);
    mutate((st) => {
      const d = findDomain(st, args[0]);
      d.state = cmd === 'pause' ? 'paused' : 'running';
    });
    break;
  case 'save': {
    const { f, rest } = flagsOf(args, ['-c', '-p']);
    if (rest.length < 2) die('Usage: xl save [options] <Domain> <CheckpointFile> [<ConfigFile>]', 2);
    mutate((st) => {
      const d = findDomain(st, rest[0]);
      const config = rest[2] ? { ...domainConfig(readCfgFile(rest[2])), c_info: d.config.c_info } : d.config;
      err(`Saving to ${rest[1]} new xl format (info 0x3/0x0/${JSON.stringify(config).length})\n`);
      writeFileSync(rest[1], SAVE_MAGIC + JSON.stringify({ config, state: d.state }));
      if (!f.has('-c')) removeDomain(st, d);
    });
    break;
  }
  case 'restore': {
    const { f, rest } = flagsOf(args, ['-p', '-e', '-d', '-V']);
    if (rest.length < 1) die('Usage: xl restore [options] [<ConfigFile>] <CheckpointFile>', 2);
    const file = rest[rest.length - 1];
    let raw;
    try {
      raw = readFileSync(file, 'latin1');
    } catch (e) {
      die(`Failed to open domain checkpoint file: ${file}: ${e.message}`);
    }
    if (!raw.startsWith(SAVE_MAGIC)) die(`File has wrong magic number - corrupt or for a different tool?`);
    const saved = JSON.parse(raw.slice(SAVE_MAGIC.length));
    let config = saved.config;
    if (rest.length === 2) config = { ...domainConfig(readCfgFile(rest[0])), c_info: saved.config.c_info };
    err(`Loading new save file ${file} (new xl fmt info 0x3/0x0/${raw.length})\n`);
    mutate((st) => newDomain(st, config, f.has('-p')));
    break;
  }
  case 'migrate': {
    const rest = [];
    let cfgFile;
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '-C') cfgFile = args[++i];
      else if (args[i] === '-s') i++;
      else if (!args[i].startsWith('-')) rest.push(args[i]);
    }
    if (rest.length < 2) die('Usage: xl migrate [options] <Domain> <host>', 2);
    if (cfgFile) readCfgFile(cfgFile);
    mutate((st) => {
      const d = findDomain(st, rest[0]);
      err(`migration target: Ready to receive domain.\nSaving to migration stream new xl format (info 0x3/0x0/1024)\nmigration sender: Target has acknowledged transfer.\nMigration successful.\n`);
      appendFileSync(join(dir, 'migrated.log'), `${JSON.stringify({ name: d.config.c_info.name, host: rest[1] })}\n`);
      removeDomain(st, d);
    });
    break;
  }
  case 'vcpu-set':
    needArgs(2, 'vcpu-set <Domain> <vCPUs>');
    mutate((st) => {
      const d = findDomain(st, args[0]);
      const n = Number(args[1]);
      if (!Number.isInteger(n) || n < 1) die(`Invalid vcpus number ${args[1]}`);
      if (n > d.config.b_info.max_vcpus) die(`libxl: error: libxl_domain.c:1902:libxl_set_vcpuonline: Domain ${d.domid}:Requested ${n} VCPUs, however maxcpus is ${d.config.b_info.max_vcpus}!`);
      d.config.b_info.avail_vcpus = Array.from({ length: n }, (_, i) => i);
    });
    break;
  case 'mem-set':
  case 'mem-max':
    needArgs(2, `${cmd} <Domain> <MemMB['b'[bytes]|'k'[KB]|'g'[GB]]>`);
    mutate((st) => {
      const d = findDomain(st, args[0]);
      const kb = memKb(args[1]);
      if (cmd === 'mem-max') {
        d.config.b_info.max_memkb = kb;
        if (d.config.b_info.target_memkb > kb) d.config.b_info.target_memkb = kb;
      } else {
        if (kb > d.config.b_info.max_memkb) die(`libxl: error: libxl_mem.c:286:libxl__set_memory_target: Domain ${d.domid}:memory_dynamic_max must be less than or equal to memory_static_max`);
        d.config.b_info.target_memkb = kb;
      }
    });
    break;
  case 'block-attach':
    needArgs(2, 'block-attach <Domain> <disk-spec-component(s)>...');
    mutate((st) => {
      const d = findDomain(st, args[0]);
      const disk = diskJson(args.slice(1).join(','));
      if (!disk.vdev) die('config parsing error in disk specification: no vdev specified');
      if (d.config.disks.some((x) => x.vdev === disk.vdev)) die(`libxl: error: libxl_device.c:1111:device_backend_callback: Domain ${d.domid}:unable to add device with path /local/domain/0/backend/qdisk/${d.domid}/${disk.vdev}`);
      d.config.disks.push(disk);
    });
    break;
  case 'block-detach':
    needArgs(2, 'block-detach <Domain> <DevId>');
    mutate((st) => {
      const d = findDomain(st, args[0]);
      const i = d.config.disks.findIndex((x) => x.vdev === args[1]);
      if (i < 0) die(`Error: Device ${args[1]} not connected.`);
      d.config.disks.splice(i, 1);
    });
    break;
  case 'network-attach':
    needArgs(2, 'network-attach <Domain> [type=<type>] [mac=<mac>] [bridge=<bridge>] …');
    mutate((st) => {
      const d = findDomain(st, args[0]);
      const devid = d.config.nics.reduce((m, n) => Math.max(m, n.devid + 1), 0);
      d.config.nics.push(nicJson(args.slice(1).join(','), devid));
    });
    break;
  case 'network-detach':
    needArgs(2, 'network-detach <Domain> <DevId|mac>');
    mutate((st) => {
      const d = findDomain(st, args[0]);
      const i = d.config.nics.findIndex((n) => n.mac === args[1] || String(n.devid) === args[1]);
      if (i < 0) die(`Unknown device ${args[1]}.`);
      d.config.nics.splice(i, 1);
    });
    break;
  case 'block-list':
  case 'network-list': {
    needArgs(1, `${cmd} <Domain(s)>`);
    const d = findDomain(load(), args[0]);
    if (cmd === 'block-list') {
      out('Vdev  BE  handle state evt-ch ring-ref BE-path\n');
      for (const x of d.config.disks) out(`${x.vdev.padEnd(5)} 0   ${d.domid}      4     -1     -1       /local/domain/0/backend/qdisk/${d.domid}/${x.vdev}\n`);
    } else {
      out('Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path\n');
      for (const n of d.config.nics) out(`${n.devid}   0  ${n.mac}     ${n.devid}     4      -1     -1/-1   /local/domain/0/backend/vif/${d.domid}/${n.devid}\n`);
    }
    break;
  }
  case undefined:
    die('Usage xl [-vfNtT] <subcommand> [args]', 2);
    break;
  default:
    die(`command not implemented`, 2);
}
