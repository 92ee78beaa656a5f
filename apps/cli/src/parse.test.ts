import { describe, expect, it } from 'vitest';
import type { CommandDef } from './command.js';
import { bindOptions, splitCommandArgv, splitCommandString } from './parse.js';

const cmd: CommandDef = {
  name: 'demo',
  group: 'Virsh itself',
  summary: 'demo',
  options: [
    { name: 'domain', type: 'string', required: true, positional: true, help: '' },
    { name: 'file', type: 'string', positional: true, help: '' },
    { name: 'live', type: 'bool', help: '' },
    { name: 'count', type: 'int', help: '' },
    { name: 'config', type: 'bool', help: '' },
  ],
  exclusive: [['live', 'config']],
  run: async () => {},
};

describe('command strings', () => {
  it('splits commands and words as virsh does', () => {
    expect(splitCommandString(`list --all; dominfo 'my guest' ; echo "a \\"b\\"" c\\ d # comment\nuri`)).toEqual([
      { name: 'list', words: ['--all'] },
      { name: 'dominfo', words: ['my guest'] },
      { name: 'echo', words: ['a "b"', 'c d'] },
      { name: 'uri', words: [] },
    ]);
  });

  it('splits argv at ; words', () => {
    expect(splitCommandArgv(['start', 'a', ';', 'start', 'b'])).toEqual([
      { name: 'start', words: ['a'] },
      { name: 'start', words: ['b'] },
    ]);
  });

  it('refuses unterminated quotes', () => {
    expect(() => splitCommandString("echo 'x")).toThrow(/quote/);
  });
});

describe('option binding', () => {
  it('binds positional words, --opt value, --opt=value and flags', () => {
    const o = bindOptions(cmd, ['vm1', '--count=3', '--live', '/tmp/f']);
    expect(o.req('domain')).toBe('vm1');
    expect(o.str('file')).toBe('/tmp/f');
    expect(o.int('count')).toBe(3);
    expect(o.flag('live')).toBe(true);
    expect(o.flag('config')).toBe(false);
    expect(bindOptions(cmd, ['--domain', 'x']).req('domain')).toBe('x');
  });

  it.each([
    [[], /requires <domain> option/],
    [['vm', '--nope'], /doesn't support option --nope/],
    [['vm', '--live', '--config'], /mutually exclusive/],
    [['vm', 'f', 'extra'], /unexpected data 'extra'/],
    [['vm', '--count'], /expected syntax/],
    [['vm', '--live=yes'], /takes no value/],
  ])('refuses %j', (words, msg) => {
    expect(() => bindOptions(cmd, words as string[])).toThrow(msg);
  });

  it('checks integer options', () => {
    expect(() => bindOptions(cmd, ['vm', '--count', 'x']).int('count')).toThrow(/malformed/);
  });
});
