import { buildTestGuest } from '../dist/test-support.js';
import { QemuProcess } from '../dist/index.js';
import { randomUUID } from 'node:crypto';
import tty from 'node:tty';
import fs from 'node:fs';
import net from 'node:net';
const g = await buildTestGuest();
const uuid = randomUUID();
const base = ['-machine','pc,accel=tcg','-m','256,slots=4,maxmem=1G','-smp','1,maxcpus=4,sockets=4,cores=1,threads=1','-nodefaults','-display','none','-kernel',g.kernel,'-initrd',g.initrd,'-append',g.cmdline,
 '-chardev','pty,id=charserial0','-device','isa-serial,chardev=charserial0,id=serial0','-no-user-config','-device','virtio-balloon-pci,id=balloon0'];
const q = await QemuProcess.launch({ name: 'exp', uuid, runDir: '/tmp/exp2', args: base});
async function consoleOf(q) {
  const ch = await q.qmp.execute('query-chardev');
  const pty = ch.find(c => c.label === 'charserial0').filename.replace(/^pty:/, '');
  const fd = fs.openSync(pty, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const s = new tty.ReadStream(fd); s.setRawMode(true);
  const c = { s, buf: '' };
  s.on('data', d => { c.buf += d.toString(); });
  c.wait = async (re, ms=20000) => { const end = Date.now()+ms; while (!re.test(c.buf)) { if (Date.now()>end) throw new Error('timeout: '+c.buf.slice(-300)); await new Promise(r=>setTimeout(r,50)); } };
  c.run = async (cmd) => { c.buf=''; const m = 'END'+Math.random().toString(36).slice(2,8); s.write(cmd + `; echo ${m.slice(0,3)}""${m.slice(3)}\n`); await c.wait(new RegExp(m)); return c.buf; };
  return c;
}
const c = await consoleOf(q);
await c.wait(/virtkit# /);
console.log(await q.qmp.execute('query-hotpluggable-cpus'));
await q.qmp.execute('device_add', { driver: 'qemu64-x86_64-cpu', id: 'vcpu1', 'socket-id': 1, 'core-id': 0, 'thread-id': 0 });
await q.qmp.execute('object-add', { 'qom-type': 'memory-backend-ram', id: 'memdimm0', size: 128*1024*1024 });
await q.qmp.execute('device_add', { driver: 'pc-dimm', id: 'dimm0', memdev: 'memdimm0', slot: 0 });
console.log(await q.qmp.execute('query-memory-devices'));
await new Promise(r => setTimeout(r, 1500));
console.log(await c.run('cat /sys/devices/system/cpu/online; grep MemTotal /proc/meminfo'));
// save via unix socket
const sock = '/tmp/exp2/mig.sock';
try { fs.unlinkSync(sock) } catch {}
const out = fs.createWriteStream('/tmp/exp2/save.img');
out.write(Buffer.alloc(92 + 65536));
let fin; const finished = new Promise(r => fin = r); out.on('finish', () => fin()); const srv = net.createServer(conn => { conn.pipe(out); });
await new Promise(r => srv.listen(sock, r));
await q.qmp.execute('migrate-set-parameters', { 'max-bandwidth': 1e15 });
await q.qmp.execute('stop');
const t0 = Date.now();
await q.qmp.execute('migrate', { uri: 'unix:' + sock });
for (;;) { const m = await q.qmp.execute('query-migrate'); if (m.status === 'completed' || m.status==='failed') { console.log(m.status, m.ram?.transferred, Date.now()-t0); break; } await new Promise(r=>setTimeout(r,20)); }
await finished;
srv.close();
c.s.destroy();
await q.destroy();
console.log('saved size', fs.statSync('/tmp/exp2/save.img').size);
// restore
const fd = fs.openSync('/tmp/exp2/save.img', 'r');
fs.readSync(fd, Buffer.alloc(92 + 65536), 0, 92+65536, null);
const t1 = Date.now();
const args2 = [...base, '-device', 'qemu64-x86_64-cpu,id=vcpu1,socket-id=1,core-id=0,thread-id=0', '-object', 'memory-backend-ram,id=memdimm0,size=134217728', '-device','pc-dimm,id=dimm0,memdev=memdimm0,slot=0', '-incoming', 'fd:4'];
const q2 = await QemuProcess.launch({ name: 'exp', uuid, runDir: '/tmp/exp2', args: args2, paused: true, extraFds: [fd] }).catch(e => { console.log(e); process.exit(1) });
for (;;) { const m = await q2.qmp.execute('query-migrate'); const st = await q2.qmp.execute('query-status'); if (st.status !== 'inmigrate') { console.log('restored', st.status, Date.now()-t1); break; } await new Promise(r=>setTimeout(r,10)); }
await q2.qmp.execute('cont');
const c2 = await consoleOf(q2);
console.log(await c2.run('cat /sys/devices/system/cpu/online; grep MemTotal /proc/meminfo'));
c2.s.destroy();
await q2.qmp.execute('system_powerdown');
console.log(await q2.exited);
