#!/usr/bin/env node
// The main job: a real QEMU guest on qemu:///session, driven by the virtkit
// CLI one command at a time (each command is its own process: no daemon).
// It creates a qcow2 disk in a storage pool, defines and starts the tiny
// test guest (Debian's cloud kernel + a busybox initramfs) with that disk,
// shows `list`, `dominfo` and the guest's prompt on the serial console,
// suspends and resumes it, hot-plugs a second disk (seen inside the guest),
// destroys and undefines it, and removes everything it made.
// Without QEMU it falls back to a tour of test:///default.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'apps/cli/dist/bin.js');
const URI = 'qemu:///session';
const NAME = 'virtkit-demo';
const POOL = 'virtkit-demo-pool';

function haveQemu() {
  return spawnSync('sh', ['-c', 'command -v qemu-system-x86_64 && command -v qemu-img'], { stdio: 'ignore' }).status === 0;
}

/** Runs one CLI command, printing it and its output like a terminal session. */
function vk(args, { check = true, quiet = false } = {}) {
  if (!quiet) console.log(`$ virtkit ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, '-c', URI, ...args], { encoding: 'utf8' });
  if (!quiet) process.stdout.write(r.stdout.replace(/\n*$/, '\n\n'));
  if (r.status !== 0 && check) {
    process.stderr.write(r.stderr);
    throw new Error(`virtkit ${args.join(' ')} failed (exit ${r.status})`);
  }
  return r;
}

/**
 * `virtkit console NAME` with the guest's shell on the other end: waits for
 * the prompt, runs the commands, then leaves with ^] as a user would.
 */
function consoleSession(commands, prompt) {
  console.log(`$ virtkit console ${NAME}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, '-c', URI, 'console', NAME], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let next = 0;
    let seen = 0;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`no prompt on the console within 60 s; got: ${JSON.stringify(out.slice(-300))}`));
    }, 60_000);
    child.stdout.on('data', (b) => {
      out += b.toString('latin1');
      // Each prompt after the first answers the previous command.
      const prompts = out.split(prompt).length - 1;
      if (prompts > seen) {
        seen = prompts;
        if (next < commands.length) child.stdin.write(`${commands[next++]}\n`);
        else child.stdin.write('\x1d');
      }
    });
    // A guest already at its prompt prints nothing until asked: press Enter.
    setTimeout(() => child.stdin.write('\n'), 300);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // The guest's terminal queries (ESC [6n) are noise in a log.
      process.stdout.write(out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '').replace(/\n*$/, '\n\n'));
      if (code === 0) resolve(out);
      else reject(new Error(`virtkit console exited with ${code}`));
    });
  });
}

async function qemuJob() {
  const { buildTestGuest } = await import(pathToFileURL(join(root, 'packages/driver-qemu/dist/test-support.js')).href);
  const guest = await buildTestGuest();
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-demo-'));
  const poolDir = join(dir, 'pool');
  const xml = join(dir, `${NAME}.xml`);
  writeFileSync(
    xml,
    `<domain type='qemu'>
  <name>${NAME}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${guest.kernel}</kernel>
    <initrd>${guest.initrd}</initrd>
    <cmdline>${guest.cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='${POOL}' volume='root.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'/>
    <console type='pty'/>
    <memballoon model='virtio'/>
  </devices>
</domain>
`,
  );
  // A guest or pool left by an interrupted run goes first.
  vk(['destroy', NAME], { check: false, quiet: true });
  vk(['undefine', NAME, '--managed-save'], { check: false, quiet: true });
  vk(['pool-destroy', POOL], { check: false, quiet: true });
  try {
    vk(['pool-create-as', POOL, 'dir', '--target', poolDir, '--build']);
    vk(['vol-create-as', POOL, 'root.qcow2', '64M', '--format', 'qcow2']);
    vk(['vol-create-as', POOL, 'data.qcow2', '32M', '--format', 'qcow2']);
    vk(['define', xml]);
    vk(['start', NAME]);
    vk(['list', '--all']);
    vk(['dominfo', NAME]);
    await consoleSession(['uname -sr', 'cat /proc/cmdline', 'ls /sys/block'], guest.prompt);
    vk(['suspend', NAME]);
    vk(['domstate', NAME, '--reason']);
    vk(['resume', NAME]);
    vk(['domstate', NAME, '--reason']);
    const data = vk(['vol-path', 'data.qcow2', '--pool', POOL], { quiet: true }).stdout.trim();
    vk(['attach-disk', NAME, data, 'vdb', '--subdriver', 'qcow2', '--live']);
    vk(['domblklist', NAME]);
    await consoleSession(['ls /sys/block', 'cat /sys/block/vdb/size'], guest.prompt);
    vk(['domstats', NAME, '--block']);
    vk(['destroy', NAME]);
    vk(['undefine', NAME]);
    vk(['list', '--all']);
  } finally {
    vk(['destroy', NAME], { check: false, quiet: true });
    vk(['undefine', NAME, '--managed-save'], { check: false, quiet: true });
    vk(['vol-delete', 'data.qcow2', '--pool', POOL], { check: false, quiet: true });
    vk(['vol-delete', 'root.qcow2', '--pool', POOL], { check: false, quiet: true });
    vk(['pool-destroy', POOL], { check: false, quiet: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fallback tour of the in-memory test driver (one CLI process holds its state). */
function testTour() {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-demo-'));
  const xml = join(dir, 'demo.xml');
  writeFileSync(xml, `<domain type='test'><name>demo</name><memory unit='MiB'>256</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>\n`);
  const tour = ['list --all', `define ${xml}`, 'start demo', 'suspend demo', 'domstate demo --reason', 'dominfo demo', 'resume demo', 'destroy demo', 'undefine demo', 'list --all'].join('; ');
  console.log(`$ virtkit -c test:///default '${tour}'\n`);
  const r = spawnSync(process.execPath, [cli, '-c', 'test:///default', tour], { stdio: 'inherit' });
  rmSync(dir, { recursive: true, force: true });
  return r.status ?? 1;
}

if (!existsSync(cli)) {
  console.error('virtkit is not built: run `pnpm build` first');
  process.exit(1);
}
if (haveQemu()) {
  try {
    await qemuJob();
    console.log(`main job done: a real guest on ${URI} was created, used and removed`);
  } catch (err) {
    console.error(`main job failed: ${err.message}`);
    process.exit(1);
  }
} else {
  console.log('QEMU is not installed (./setup.sh installs it): touring test:///default instead\n');
  process.exit(testTour());
}
