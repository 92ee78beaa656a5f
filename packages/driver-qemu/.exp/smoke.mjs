import * as require_fs from 'node:fs';
import { Connection, PluginLoader } from '@virtkit/core';
import { buildTestGuest } from '../dist/test-support.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const root = mkdtempSync(join(tmpdir(), 'vk-smoke-'));
const loader = new PluginLoader({ roots: [], pluginPath: process.cwd() });
const g = await buildTestGuest();
const t = () => performance.now();
let t0 = t();
const conn = await Connection.open(`qemu:///embed?root=${root}`, { loader });
conn.on('*', (e) => console.log('EVENT', e.type ?? e.event, e.detail ?? ''));
console.log('open', (t() - t0).toFixed(1));
const disk = join(root, 'd1.qcow2');
execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
const xml = `<domain type='qemu'><name>smoke</name><memory unit='MiB'>256</memory><maxMemory slots='4' unit='MiB'>1024</maxMemory><vcpu current='1'>4</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><kernel>${g.kernel}</kernel><initrd>${g.initrd}</initrd><cmdline>${g.cmdline}</cmdline></os>
<features><acpi/></features><on_reboot>destroy</on_reboot>
<devices><serial type='pty'/><console type='pty'/><memballoon model='virtio'/></devices></domain>`;
try {
  t0 = t(); const d = await conn.defineDomainXml(xml); console.log('define', (t() - t0).toFixed(1));
  t0 = t(); await d.start(); console.log('start', (t() - t0).toFixed(1), d.id);
  console.log(await d.getState(), await d.getInfo());
  const con = await d.openConsole();
  let buf = '';
  con.on('data', (b) => (buf += b.toString()));
  const wait = async (re, ms = 30000) => { const end = Date.now() + ms; while (!re.test(buf)) { if (Date.now() > end) throw new Error('timeout ' + JSON.stringify(buf.slice(-300))); await new Promise((r) => setTimeout(r, 50)); } };
  await wait(/virtkit# /);
  console.log('prompt ok');
  t0 = t(); await d.suspend(); console.log('suspend', (t() - t0).toFixed(1), (await d.getState()).state);
  t0 = t(); await d.resume(); console.log('resume', (t() - t0).toFixed(1), (await d.getState()).state);
  t0 = t(); await d.attachDevice(`<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vdb' bus='virtio'/></disk>`, { live: true }); console.log('attach disk', (t() - t0).toFixed(1));
  t0 = t(); await d.attachDevice(`<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>`, { live: true }).catch(e => console.log('dimm err', e.message)); console.log('attach dimm', (t() - t0).toFixed(1));
  t0 = t(); await d.setVcpus(2, { live: true }); console.log('setvcpus', (t() - t0).toFixed(1));
  await new Promise((r) => setTimeout(r, 1500));
  buf = '';
  con.write('ls /sys/block; cat /sys/devices/system/cpu/online; grep MemTotal /proc/meminfo; echo DO""NE\n');
  await wait(/DONE/);
  console.log(buf);
  console.log(await d.getStats());
  const live = await d.getXmlDesc();
  console.log(live.split('\n').filter(l => /vdb|dimm|vcpu|memory|target dev|pts/.test(l)).join('\n'));
  t0 = t(); await d.detachDevice(`<disk type='file' device='disk'><target dev='vdb'/></disk>`, { live: true }).catch(e => console.log('detach err', e.message)); console.log('detach disk', (t() - t0).toFixed(1));
  const file = join(root, 'smoke.save');
  t0 = t(); await d.save(file); console.log('save', (t() - t0).toFixed(1), (await d.getState()));
  t0 = t(); const r = await conn.restoreDomain(file).catch(e => { console.log(require_fs.readFileSync(join(root, 'lib/qemu/log/smoke.log'), 'utf8').slice(-1500)); throw e; }); console.log('restore', (t() - t0).toFixed(1), await r.getState());
  con.destroy();
  t0 = t(); await r.shutdown({ waitMs: 20000 }); console.log('shutdown', (t() - t0).toFixed(1), await d.getState());
  await d.undefine();
  console.log(await conn.listAllDomains());
} finally {
  for (const d of await conn.listAllDomains()) { if (d.id >= 0) await d.destroy().catch(() => {}); await d.undefine().catch(() => {}); }
  await conn.close();
  rmSync(root, { recursive: true, force: true });
}
