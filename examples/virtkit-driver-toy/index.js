// A minimal third-party hypervisor driver for virtkit: guests that live in
// memory at toy:///default. It shows the whole contract: one default-exported
// factory returning what the driver implements and the capabilities it
// declares. Everything it does not declare (save, autostart, …) is refused by
// virtkit's core with NO_SUPPORT before it is ever called.
import { hostname } from 'node:os';
import { VirtError, domainEvent, formatDomainXml, parseDomainXml } from '@virtkit/core';

const CAPABILITIES = new Set(['domain.lifecycle', 'domain.suspend', 'events']);

/** One host per process, shared by every connection to toy:///default. */
const guests = new Map();
const buses = new Set();
let nextId = 1;

const emit = (g, type, detail) => {
  for (const bus of buses) bus.emit(domainEvent(type, detail, { name: g.def.name, uuid: g.def.uuid, id: g.id }));
};

const summary = (g) => ({
  id: g.id,
  name: g.def.name,
  uuid: g.def.uuid,
  state: g.state,
  reason: g.reason,
  persistent: g.persistent,
  autostart: false,
  managedSave: false,
});

function find(uuid) {
  const g = guests.get(uuid);
  if (!g) throw new VirtError('NO_DOMAIN', `Domain not found: no domain with matching uuid '${uuid}'`, { origin: 'toy' });
  return g;
}

function mustRun(g, what) {
  if (g.id < 0) throw new VirtError('OPERATION_INVALID', `domain '${g.def.name}' is not running (${what})`, { origin: 'toy' });
}

/** The toy guests' XML: libvirt's domain format with its own virt type. */
const PARSER_CONFIG = { name: 'toy', domainTypes: ['toy'] };

function parse(xml) {
  const def = parseDomainXml(xml, { inactive: true, config: PARSER_CONFIG });
  if (def.type !== 'toy') throw new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': type must be 'toy', not '${def.type}'`, { origin: 'toy' });
  for (const g of guests.values()) {
    if (g.def.name === def.name && g.def.uuid !== def.uuid) {
      throw new VirtError('OPERATION_FAILED', `domain '${def.name}' already exists with uuid ${g.def.uuid}`, { origin: 'toy' });
    }
  }
  return def;
}

const domains = {
  async listDomains() {
    return [...guests.values()].map(summary);
  },
  async lookupDomain(key) {
    const g = [...guests.values()].find((x) =>
      'uuid' in key ? x.def.uuid === key.uuid : 'name' in key ? x.def.name === key.name : x.id === key.id && x.id >= 0,
    );
    if (!g) throw new VirtError('NO_DOMAIN', `Domain not found: ${JSON.stringify(key)}`, { origin: 'toy' });
    return summary(g);
  },
  async defineDomain(xml) {
    const def = parse(xml);
    const old = guests.get(def.uuid);
    const g = old ?? { def, id: -1, state: 'shutoff', reason: 'unknown', persistent: true };
    g.def = def;
    g.persistent = true;
    guests.set(def.uuid, g);
    emit(g, 'defined', old ? 'updated' : 'added');
    return summary(g);
  },
  async undefineDomain(uuid) {
    const g = find(uuid);
    emit(g, 'undefined', 'removed');
    if (g.id >= 0) g.persistent = false;
    else guests.delete(uuid);
  },
  async createDomain(xml) {
    const def = parse(xml);
    if (guests.get(def.uuid)?.id >= 0) throw new VirtError('OPERATION_INVALID', `domain '${def.name}' is already active`, { origin: 'toy' });
    const g = guests.get(def.uuid) ?? { def, id: -1, state: 'shutoff', reason: 'unknown', persistent: false };
    guests.set(def.uuid, g);
    await domains.startDomain(def.uuid);
    return summary(g);
  },
  async startDomain(uuid) {
    const g = find(uuid);
    if (g.id >= 0) throw new VirtError('OPERATION_INVALID', `domain '${g.def.name}' is already active`, { origin: 'toy' });
    Object.assign(g, { id: nextId++, state: 'running', reason: 'booted' });
    emit(g, 'started', 'booted');
  },
  async destroyDomain(uuid) {
    const g = find(uuid);
    mustRun(g, 'destroy');
    Object.assign(g, { state: 'shutoff', reason: 'destroyed' });
    emit(g, 'stopped', 'destroyed');
    g.id = -1;
    if (!g.persistent) guests.delete(uuid);
  },
  async suspendDomain(uuid) {
    const g = find(uuid);
    mustRun(g, 'suspend');
    if (g.state === 'paused') throw new VirtError('OPERATION_INVALID', `domain '${g.def.name}' is already paused`, { origin: 'toy' });
    Object.assign(g, { state: 'paused', reason: 'user' });
    emit(g, 'suspended', 'paused');
  },
  async resumeDomain(uuid) {
    const g = find(uuid);
    mustRun(g, 'resume');
    if (g.state !== 'paused') throw new VirtError('OPERATION_INVALID', `domain '${g.def.name}' is not paused`, { origin: 'toy' });
    Object.assign(g, { state: 'running', reason: 'unpaused' });
    emit(g, 'resumed', 'unpaused');
  },
  async getXml(uuid, opts = {}) {
    const g = find(uuid);
    return formatDomainXml(g.def, { config: PARSER_CONFIG, inactive: !!opts.inactive || g.id < 0, ...(g.id >= 0 && !opts.inactive ? { id: g.id } : {}) });
  },
  async getInfo(uuid) {
    const g = find(uuid);
    return {
      state: g.state,
      reason: g.reason,
      maxMemKiB: g.def.memory.total,
      memoryKiB: g.def.memory.current,
      vcpus: g.def.vcpu.current,
      cpuTimeNs: 0,
      persistent: g.persistent,
      autostart: false,
      managedSave: false,
      osType: g.def.os.type,
    };
  },
  async getState(uuid) {
    const g = find(uuid);
    return { state: g.state, reason: g.reason };
  },
};

/** The driver factory virtkit calls when a toy:// URI is opened. */
export default async function openToyDriver(ctx) {
  if (ctx.uri.path !== '/default') {
    throw new VirtError('NO_CONNECT', `toy driver: only toy:///default exists, not '${ctx.uri.raw}'`, { origin: 'toy' });
  }
  buses.add(ctx.events);
  return {
    name: 'toy',
    capabilities: CAPABILITIES,
    uri: 'toy:///default',
    getHostname: async () => hostname(),
    getVersion: async () => ({ hypervisor: 'Toy', version: '0.1.0' }),
    getCapabilities: async () => "<capabilities>\n  <host>\n    <cpu>\n      <arch>x86_64</arch>\n    </cpu>\n  </host>\n</capabilities>\n",
    getNodeInfo: async () => ({ model: 'x86_64', memoryKiB: 1048576, cpus: 1, mhz: 1000, nodes: 1, sockets: 1, cores: 1, threads: 1 }),
    domains,
    close: async () => {
      buses.delete(ctx.events);
    },
  };
}
