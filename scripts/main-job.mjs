#!/usr/bin/env node
// The main job: a tour of test:///default with the virtkit CLI, as one
// invocation (the test driver's state lives in one process).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'apps/cli/dist/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'virtkit-demo-'));
const xml = join(dir, 'demo.xml');
writeFileSync(
  xml,
  `<domain type='test'>
  <name>demo</name>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/demo.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
`,
);
const tour = [
  'list --all',
  `define ${xml}`,
  'list --all',
  'start demo',
  'suspend demo',
  'domstate demo --reason',
  'dominfo demo',
  'dumpxml demo',
  'resume demo',
  'destroy demo',
  'undefine demo',
  'list --all --json',
].join('; ');
console.log(`$ virtkit -c test:///default '${tour}'\n`);
const r = spawnSync(process.execPath, [cli, '-c', 'test:///default', tour], { stdio: 'inherit' });
rmSync(dir, { recursive: true, force: true });
process.exit(r.status ?? 1);
