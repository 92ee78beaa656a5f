import { buildTestGuest } from '../dist/test-support.js';
import { QemuProcess } from '../dist/index.js';
import { randomUUID } from 'node:crypto';
import tty from 'node:tty';
import fs from 'node:fs';
const g = await buildTestGuest();
console.log(g);
const t0 = Date.now();
const q = await QemuProcess.launch({ name: 'exp', uuid: randomUUID(), runDir: '/tmp/exp1', args: [
 '-machine','pc,accel=tcg','-m','128','-nodefaults','-display','none','-kernel',g.kernel,'-initrd',g.initrd,'-append',g.cmdline,
 '-chardev','pty,id=charserial0','-device','isa-serial,chardev=charserial0,id=serial0','-no-user-config',
]});
const ch = await q.qmp.execute('query-chardev');
console.log(ch);
const pty = ch.find(c => c.label === 'charserial0').filename.replace(/^pty:/, '');
const fd = fs.openSync(pty, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
const s = new tty.ReadStream(fd);
s.setRawMode(true);
console.log('writable', s.writable);
let buf = '';
s.on('data', d => { buf += d.toString(); });
const wait = async (re, ms=20000) => { const end = Date.now()+ms; while (!re.test(buf)) { if (Date.now()>end) throw new Error('timeout: '+buf.slice(-300)); await new Promise(r=>setTimeout(r,50)); } };
await wait(/virtkit# /);
console.log('prompt after', Date.now()-t0);
s.write('echo hello-$((1+2))\n');
await wait(/hello-3/);
console.log('echo ok', JSON.stringify(buf.slice(-100)));
console.log(await q.qmp.execute('query-hotpluggable-cpus'));
s.destroy();
console.log(await q.destroy());
