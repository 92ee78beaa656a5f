/**
 * Comparisons the conformance data asks for (shared/conformance/README.md):
 * exact text after the harness's own normalisation, or token lists for
 * command lines.
 */

/** Deletes backslash-newline pairs, as libvirt's harness does to expected files. */
export function dropLineContinuations(s: string): string {
  return s.replace(/\\\n/g, '');
}

function trimOneNewline(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

/** Exact comparison; returns undefined when equal, else a short description of the first difference. */
export function compareExact(actual: string, expected: string): string | undefined {
  const a = trimOneNewline(actual);
  const e = trimOneNewline(dropLineContinuations(expected));
  if (a === e) return undefined;
  const al = a.split('\n');
  const el = e.split('\n');
  for (let i = 0; i < Math.max(al.length, el.length); i++) {
    if (al[i] !== el[i]) {
      return `line ${i + 1}: expected ${JSON.stringify(el[i] ?? '<end>')}, got ${JSON.stringify(al[i] ?? '<end>')}`;
    }
  }
  return 'outputs differ';
}

/** Splits a command line as a POSIX shell would (quotes and backslashes; no expansions). */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      cur += s.slice(i + 1, end);
      i = end;
      inToken = true;
    } else if (c === '"') {
      i++;
      for (; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === '\\' && i + 1 < s.length && '$`"\\\n'.includes(s[i + 1]!)) {
          i++;
          if (s[i] !== '\n') cur += s[i];
        } else cur += s[i];
      }
      if (i >= s.length) throw new Error('unterminated double quote');
      inToken = true;
    } else if (c === '\\') {
      i++;
      if (i < s.length && s[i] !== '\n') cur += s[i];
      inToken = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += c;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

/** Token-list comparison for command lines. */
export function compareArgv(actual: string, expected: string): string | undefined {
  const a = shellSplit(dropLineContinuations(actual));
  const e = shellSplit(dropLineContinuations(expected));
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) return `token ${i + 1}: expected ${JSON.stringify(e[i] ?? '<end>')}, got ${JSON.stringify(a[i] ?? '<end>')}`;
  }
  return undefined;
}
