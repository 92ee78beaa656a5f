// A small in-memory driver for the remote package's protocol tests: what
// the test driver lacks (console, volume upload/download, long jobs with
// progress and cancellation, a call that takes as long as it is told).
// Loaded by virtkitd through VIRTKIT_PLUGIN_PATH. stub:///default lives in
// memory; stub:///embed?root=DIR keeps its domains in DIR/stub.json and runs
// each started one as a real detached process (`sleep`), so a restarted
// daemon finds its guests the way the QEMU driver does: from its own state.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duplex, Readable } from 'node:stream';
import { VirtError, domainEvent } from '@virtkit/core';

let domains = new Map(); // uuid -> { name, uuid, id, state, pid? }
const volumes = new Map(); // name -> Buffer
const buses = new Set();
let nextId = 1;
let stateFile; // set for embed roots
let autostartMarker; // <root>/autostarted: autostart ran (libvirt's once-per-boot file)

// Alive and not a zombie (an orphan whose reaper never came).
const alive = (pid) => {
  try {
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const save = () => {
  if (stateFile) writeFileSync(stateFile, JSON.stringify([...domains.values()]));
};
/** Re-reads the state file; a guest whose process is gone is shut off. */
const load = () => {
  if (!stateFile) return;
  let list = [];
  try {
    list = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    list = [];
  }
  domains = new Map(list.map((d) => [d.uuid, d]));
  for (const d of domains.values()) {
    if (d.pid && !alive(d.pid)) Object.assign(d, { id: -1, state: 'shutoff', pid: undefined });
    nextId = Math.max(nextId, d.id + 1);
  }
};

const emit = (e) => {
  for (const b of buses) b.emit(e);
};
const summary = (d) => ({ id: d.id, name: d.name, uuid: d.uuid, state: d.state, reason: 'unknown', persistent: true, autostart: !!d.autostart, managedSave: false });
const find = (key) => {
  for (const d of domains.values()) {
    if (('name' in key && d.name === key.name) || ('uuid' in key && d.uuid === key.uuid) || ('id' in key && d.id === key.id && d.id >= 0)) return d;
  }
  throw new VirtError('NO_DOMAIN', `Domain not found: ${JSON.stringify(key)}`, { origin: 'stub' });
};
const byUuid = (uuid) => find({ uuid });
const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new VirtError('OPERATION_ABORTED', 'job cancelled', { origin: 'stub' }));
    });
  });

const domainsDriver = {
  async listDomains() {
    return [...domains.values()].map(summary);
  },
  async lookupDomain(key) {
    return summary(find(key));
  },
  async defineDomain(xml) {
    const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1];
    if (!name) throw new VirtError('XML_ERROR', 'missing <name>', { origin: 'stub' });
    const uuid = /<uuid>([^<]+)<\/uuid>/.exec(xml)?.[1] ?? randomUUID();
    const existing = [...domains.values()].find((d) => d.name === name);
    const d = existing ?? { name, uuid, id: -1, state: 'shutoff' };
    domains.set(d.uuid, d);
    save();
    emit(domainEvent('defined', existing ? 'updated' : 'added', d));
    return summary(d);
  },
  async undefineDomain(uuid) {
    const d = byUuid(uuid);
    if (d.pid) throw new VirtError('OPERATION_INVALID', `domain '${d.name}' is running`, { origin: 'stub' });
    domains.delete(uuid);
    save();
    emit(domainEvent('undefined', 'removed', d));
  },
  async createDomain(xml) {
    const s = await domainsDriver.defineDomain(xml);
    await domainsDriver.startDomain(s.uuid);
    return summary(byUuid(s.uuid));
  },
  async startDomain(uuid) {
    const d = byUuid(uuid);
    if (d.id >= 0) throw new VirtError('OPERATION_INVALID', `domain '${d.name}' is already active`, { origin: 'stub' });
    d.id = nextId++;
    d.state = 'running';
    if (stateFile) {
      const p = spawn('sleep', ['100000'], { detached: true, stdio: 'ignore' });
      p.unref();
      d.pid = p.pid;
    }
    save();
    emit(domainEvent('started', 'booted', d));
  },
  async destroyDomain(uuid) {
    const d = byUuid(uuid);
    if (d.id < 0) throw new VirtError('OPERATION_INVALID', `domain '${d.name}' is not running`, { origin: 'stub' });
    if (d.pid) {
      try {
        process.kill(d.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      d.pid = undefined;
    }
    d.id = -1;
    d.state = 'shutoff';
    save();
    emit(domainEvent('stopped', 'destroyed', d));
  },
  async getXml(uuid) {
    const d = byUuid(uuid);
    return `<domain type='stub'>\n  <name>${d.name}</name>\n  <uuid>${d.uuid}</uuid>\n</domain>\n`;
  },
  async getInfo(uuid) {
    const d = byUuid(uuid);
    return { state: d.state, reason: 'unknown', maxMemKiB: 1024, memoryKiB: 1024, vcpus: 1, cpuTimeNs: 0, persistent: true, autostart: !!d.autostart, managedSave: false, osType: 'hvm' };
  },
  async setAutostart(uuid, on) {
    byUuid(uuid).autostart = on;
    save();
  },
  async getState(uuid) {
    return { state: byUuid(uuid).state, reason: 'unknown' };
  },
  /** Takes `groups[0]` ms when it is a number: a call that stays in flight (reported in that group, which core keeps). */
  async getStats(uuid, groups) {
    byUuid(uuid);
    const ms = Number(groups?.[0] ?? 0);
    if (ms > 0) await sleep(ms);
    return { 'state.state': 1, [`${ms}.slept`]: ms };
  },
  /** An echo console: what the client writes comes back. */
  async openConsole(uuid) {
    byUuid(uuid);
    let push;
    const d = new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        push(chunk);
        cb();
      },
      final(cb) {
        d.push(null);
        cb();
      },
    });
    push = (c) => d.push(c);
    return d;
  },
  /** A save that takes 20 steps of 50 ms, reports progress, and stops when cancelled. */
  async saveDomain(uuid, file, _opts, job) {
    byUuid(uuid);
    for (let i = 1; i <= 20; i++) {
      await sleep(50, job?.signal);
      job?.onProgress?.({ processed: i, total: 20, operation: 'save' });
    }
  },
};

const pool = { name: 'default', uuid: 'dd8b9ec0-0fbb-4e1a-9bfb-7f0a5d4d6c11', type: 'dir', state: 'running', persistent: true, autostart: true };
const volSummary = (name) => ({ pool: 'default', name, key: `/stub/${name}`, path: `/stub/${name}`, type: 'file' });
const volName = (key) => {
  const name = 'name' in key ? key.name : 'key' in key ? key.key.replace('/stub/', '') : key.path.replace('/stub/', '');
  if (!volumes.has(name)) throw new VirtError('NO_STORAGE_VOL', `Storage volume not found: '${name}'`, { origin: 'stub' });
  return name;
};

const storageDriver = {
  async listPools() {
    return [pool];
  },
  async lookupPool(key) {
    if (key.name === 'default' || key.uuid === pool.uuid) return pool;
    throw new VirtError('NO_STORAGE_POOL', 'no pool', { origin: 'stub' });
  },
  async getPoolInfo() {
    return { state: 'running', capacity: 1e9, allocation: 0, available: 1e9 };
  },
  async getPoolXml() {
    return "<pool type='dir'><name>default</name></pool>\n";
  },
  async listVolumes() {
    return [...volumes.keys()].map(volSummary);
  },
  async lookupVolume(key) {
    return volSummary(volName(key));
  },
  async createVolume(_pool, xml) {
    const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1];
    volumes.set(name, Buffer.alloc(0));
    return volSummary(name);
  },
  async deleteVolume(key) {
    volumes.delete(volName(key));
  },
  async getVolumeInfo(key) {
    return { type: 'file', capacity: volumes.get(volName(key)).length, allocation: volumes.get(volName(key)).length };
  },
  async getVolumeXml(key) {
    return `<volume><name>${volName(key)}</name></volume>\n`;
  },
  async uploadVolume(key, source, _opts, job) {
    const name = volName(key);
    const parts = [];
    let n = 0;
    for await (const c of source) {
      parts.push(c);
      n += c.length;
      job?.onProgress?.({ processed: n, total: 0, operation: 'upload' });
    }
    volumes.set(name, Buffer.concat(parts));
  },
  async downloadVolume(key, opts) {
    const data = volumes.get(volName(key));
    const off = opts?.offset ?? 0;
    const len = opts?.length || data.length - off;
    const slice = data.subarray(off, off + len);
    // Small chunks so flow control has something to do.
    let pos = 0;
    return new Readable({
      read() {
        if (pos >= slice.length) return this.push(null);
        const n = Math.min(65536, slice.length - pos);
        this.push(Buffer.from(slice.subarray(pos, pos + n)));
        pos += n;
      },
    });
  },
};

// Empty network and interface parts, so core attaches no host-wide ones.
const none = (code, what) => async () => {
  throw new VirtError(code, `no ${what} on the stub host`, { origin: 'stub' });
};
const networksDriver = {
  listNetworks: async () => [],
  lookupNetwork: none('NO_NETWORK', 'network'),
  defineNetwork: none('OPERATION_FAILED', 'network support'),
  createNetwork: none('OPERATION_FAILED', 'network support'),
  undefineNetwork: none('NO_NETWORK', 'network'),
  startNetwork: none('NO_NETWORK', 'network'),
  destroyNetwork: none('NO_NETWORK', 'network'),
  setNetworkAutostart: none('NO_NETWORK', 'network'),
  getNetworkXml: none('NO_NETWORK', 'network'),
};
const interfacesDriver = {
  listInterfaces: async () => [],
  lookupInterface: none('NO_INTERFACE', 'interface'),
  getInterfaceXml: none('NO_INTERFACE', 'interface'),
};

export default async function openStub(ctx) {
  if (ctx.uri.path === '/embed' && ctx.uri.params.root) {
    mkdirSync(ctx.uri.params.root, { recursive: true });
    stateFile = join(ctx.uri.params.root, 'stub.json');
    autostartMarker = join(ctx.uri.params.root, 'autostarted');
    load();
  }
  buses.add(ctx.events);
  return {
    name: 'stub',
    capabilities: new Set(['domain.lifecycle', 'domain.autostart', 'domain.console', 'domain.save', 'domain.stats', 'storage', 'storage.upload', 'storage.download', 'events']),
    uri: ctx.uri.raw,
    getHostname: async () => 'stubhost',
    getVersion: async () => ({ hypervisor: 'Stub', version: '1.0.0' }),
    getCapabilities: async () => '<capabilities>\n</capabilities>\n',
    getNodeInfo: async () => ({ model: 'x86_64', memoryKiB: 1048576, cpus: 2, mhz: 1000, nodes: 1, sockets: 1, cores: 2, threads: 1 }),
    domains: domainsDriver,
    // Autostart guests of an embed root, once until its marker file is removed ("a reboot").
    async startAutostart() {
      if (!autostartMarker || existsSync(autostartMarker)) return undefined;
      writeFileSync(autostartMarker, '');
      load();
      const report = { started: [], failed: [] };
      for (const d of domains.values()) {
        if (!d.autostart || d.id >= 0) continue;
        await domainsDriver.startDomain(d.uuid).then(
          () => report.started.push(d.name),
          (err) => report.failed.push({ name: d.name, error: err.message }),
        );
      }
      return report;
    },
    storage: storageDriver,
    networks: networksDriver,
    interfaces: interfacesDriver,
    close: async () => {
      buses.delete(ctx.events);
    },
  };
}
