import { describe, expect, it } from 'vitest';
import { VirtError } from '@virtkit/core';
import { formatLxcDomain, lxcParserConfig, lxcShares, parseLxcDomain } from './domain-xml.js';

const config = lxcParserConfig('x86_64');
const xml = (type = 'lxc', os = 'exe', arch = 'x86_64', extra = '') =>
  `<domain type='${type}' xmlns:lxc='http://libvirt.org/schemas/domain/lxc/1.0'><name>c1</name><memory>65536</memory><os><type arch='${arch}'>${os}</type><init>/sbin/init</init></os><devices><console type='pty'/></devices>${extra}</domain>`;

describe('LXC domain XML', () => {
  it('fills the emulator and console target type', () => {
    const out = formatLxcDomain(parseLxcDomain(xml(), { config }), { config });
    expect(out).toContain('<emulator>/usr/libexec/libvirt_lxc</emulator>');
    expect(out).toContain("<target type='lxc' port='0'/>");
  });

  it('accepts the 32-bit sibling architecture and refuses others, other OS and domain types', () => {
    expect(parseLxcDomain(xml('lxc', 'exe', 'i686'), { config }).os.arch).toBe('i686');
    for (const bad of [xml('lxc', 'exe', 'aarch64'), xml('lxc', 'hvm'), xml('kvm')]) {
      expect(() => parseLxcDomain(bad, { config })).toThrow(VirtError);
    }
  });

  it('reads and writes lxc:namespace shares', () => {
    const d = parseLxcDomain(xml('lxc', 'exe', 'x86_64', "<lxc:namespace><lxc:shareuts type='name' value='other'/><lxc:sharenet type='netns' value='red'/></lxc:namespace>"), { config });
    expect(lxcShares(d)).toEqual([
      { kind: 'shareuts', type: 'name', value: 'other' },
      { kind: 'sharenet', type: 'netns', value: 'red' },
    ]);
    const out = formatLxcDomain(d, { config });
    expect(out).toContain("<lxc:sharenet type='netns' value='red'/>\n    <lxc:shareuts type='name' value='other'/>");
    expect(() => parseLxcDomain(xml('lxc', 'exe', 'x86_64', "<lxc:namespace><lxc:sharenet type='bogus' value='x'/></lxc:namespace>"), { config })).toThrow(/Unknown LXC namespace source/);
    expect(() => parseLxcDomain(xml('lxc', 'exe', 'x86_64', "<lxc:namespace><lxc:sharepid type='pid' value='1'/></lxc:namespace>"), { config })).toThrow(/unsupported Namespace feature/);
  });
});
