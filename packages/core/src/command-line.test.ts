import { describe, expect, it } from 'vitest';
import { formatCommandLine, quoteShellWord } from './command-line.js';

describe('command lines as libvirt prints them', () => {
  it('quotes only words with shell metacharacters', () => {
    expect(quoteShellWord('/var/lib/x.img')).toBe('/var/lib/x.img');
    expect(quoteShellWord('a b')).toBe("'a b'");
    expect(quoteShellWord("it's")).toBe("'it'\\''s'");
    expect(quoteShellWord('')).toBe("''");
  });

  it('breaks lines before options, keeping option values on their line', () => {
    const argv = ['qemu-img', 'create', '-f', 'qcow2', '-o', 'compat=1.1', '/x', '1K'];
    expect(formatCommandLine(argv)).toBe('qemu-img create -f qcow2 -o compat=1.1 /x 1K');
    expect(formatCommandLine(argv, { linebreaks: true })).toBe('qemu-img \\\ncreate \\\n-f qcow2 \\\n-o compat=1.1 \\\n/x \\\n1K');
    expect(formatCommandLine(['mount'], { env: [['LC_ALL', 'C']] })).toBe('LC_ALL=C mount');
  });
});
