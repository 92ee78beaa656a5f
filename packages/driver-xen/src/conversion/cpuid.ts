/**
 * CPU feature names differ between libvirt and libxl's `cpuid=` syntax;
 * the table is libvirt's xenTranslateCPUFeature.
 */
const TABLE: Array<[libvirt: string, libxl: string]> = [
  ['cx16', 'cmpxchg16'],
  ['cid', 'cntxid'],
  ['ds_cpl', 'dscpl'],
  ['pclmuldq', 'pclmulqdq'],
  ['pni', 'sse3'],
  ['ht', 'htt'],
  ['pn', 'psn'],
  ['clflush', 'clfsh'],
  ['sep', 'sysenter'],
  ['cx8', 'cmpxchg8'],
  ['nodeid_msr', 'nodeid'],
  ['cr8legacy', 'altmovcr8'],
  ['lahf_lm', 'lahfsahf'],
  ['cmp_legacy', 'cmplegacy'],
  ['fxsr_opt', 'ffxsr'],
  ['pdpe1gb', 'page1gb'],
  ['spec-ctrl', 'ibrsb'],
];

export function cpuFeatureFromLibxl(name: string): string {
  return TABLE.find((t) => t[1] === name)?.[0] ?? name;
}

export function cpuFeatureToLibxl(name: string): string {
  return TABLE.find((t) => t[0] === name)?.[1] ?? name;
}
