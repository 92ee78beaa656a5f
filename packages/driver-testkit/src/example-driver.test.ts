import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Connection, PluginLoader } from '@virtkit/core';
import { runDriverTestkit } from './index.js';

// The third-party example lives outside the workspace; installing it means
// giving it @virtkit/core as a peer, which is what this link does.
const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const example = join(repo, 'examples', 'virtkit-driver-toy');
const link = join(example, 'node_modules', '@virtkit', 'core');
if (!existsSync(link)) {
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(relative(dirname(link), join(repo, 'packages', 'core')), link);
}

const loader = new PluginLoader({ roots: [], pluginPath: example });
const open = (readonly = false) => Connection.open('toy:///default', { loader, readonly });

describe('the example third-party driver', () => {
  it('is found by the loader from its package.json', () => {
    const m = loader.findHypervisor('toy');
    expect(m?.name).toBe('virtkit-driver-toy');
    expect(m?.capabilities).toEqual(['domain.lifecycle', 'domain.suspend', 'events']);
  });
});

runDriverTestkit({
  name: 'virtkit-driver-toy (examples/)',
  open: () => open(),
  openReadonly: () => open(true),
  domainXml: (name, uuid) =>
    `<domain type='toy'><name>${name}</name>${uuid ? `<uuid>${uuid}</uuid>` : ''}<memory unit='MiB'>32</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`,
});
