// `virtkit list` on test:///default against `node -e 0` (the limit) and
// `virsh -c test:///default list` (the peer).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureDebianPackages, have, measure, median, report } from './lib.mjs';

const cli = join(process.cwd(), 'apps/cli/dist/bin.js');
const run = (cmd, args) => () => {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
};
const N = 20;
const vk = median(await measure(run(process.execPath, [cli, '-c', 'test:///default', 'list']), N));
const limit = median(await measure(run(process.execPath, ['-e', '0']), N));
ensureDebianPackages(['libvirt-clients']);
const lv = have('virsh') ? median(await measure(run('virsh', ['-c', 'test:///default', 'list']), N)) : NaN;
report('virtkit list (test:///default)', vk, limit, lv);
