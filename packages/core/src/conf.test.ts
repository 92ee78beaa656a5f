import { describe, expect, it } from 'vitest';
import { confString, confStringList, formatConf, parseConf } from './conf.js';
import { VirtError } from './errors.js';

describe('virconf', () => {
  it('reads strings, numbers, lists and comments and writes them back as libvirt does', () => {
    const text = `# a comment\nname = "vm1"\nmemory = 512\nvif = [ "mac=00:16:3e:00:00:01,bridge=br0", 'x"y' ]\nneg = -3 # trailing\nmulti = """a\nb"""\n`;
    const e = parseConf(text);
    expect(confString(e, 'name')).toBe('vm1');
    expect(confStringList(e, 'vif')).toEqual(['mac=00:16:3e:00:00:01,bridge=br0', 'x"y']);
    expect(formatConf(e)).toBe(`# a comment\nname = "vm1"\nmemory = 512\nvif = [ "mac=00:16:3e:00:00:01,bridge=br0", 'x"y' ]\nneg = -3 # trailing\nmulti = """a\nb"""\n`);
  });

  it('reads LXC configs (unquoted values, dotted names)', () => {
    const e = parseConf('lxc.uts.name = c1\nlxc.net.0.type = veth  \n', { lxc: true });
    expect(confString(e, 'lxc.uts.name')).toBe('c1');
    expect(confString(e, 'lxc.net.0.type')).toBe('veth');
  });

  it.each(['x = "unterminated', 'x = [ "a" "b" ]', '= 1', 'x 1', 'x = [ 1,'])('refuses %j with CONF_SYNTAX', (t) => {
    try {
      parseConf(t, { filename: 'f.cfg' });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(VirtError);
      expect((err as VirtError).code).toBe('CONF_SYNTAX');
      expect((err as VirtError).message).toMatch(/^f\.cfg:1: /);
    }
  });
});
