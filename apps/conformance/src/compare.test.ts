import { describe, expect, it } from 'vitest';
import { compareArgv, compareExact, shellSplit } from './compare.js';

describe('comparisons', () => {
  it('splits command lines as a shell does', () => {
    expect(shellSplit(`A=1 \\\n/usr/bin/qemu -name 'guest=a b' -device "{\\"x\\":1}" it\\'s`)).toEqual(['A=1', '/usr/bin/qemu', '-name', 'guest=a b', '-device', '{"x":1}', "it's"]);
  });

  it('compares argv as token lists and says where they differ', () => {
    expect(compareArgv('a \\\nb c', "a b 'c'")).toBeUndefined();
    expect(compareArgv('a b', 'a c')).toMatch(/token 2/);
  });

  it('compares text exactly after the harness normalisation', () => {
    expect(compareExact('<a/>\n', '<a/>')).toBeUndefined();
    expect(compareExact('<a x="1"/>', '<a \\\nx="1"/>\n')).toBeUndefined();
    expect(compareExact('<a/>\n<b/>', '<a/>\n<c/>')).toMatch(/line 2/);
  });
});
