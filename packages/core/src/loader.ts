import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VirtError } from './errors.js';
import type { PluginManifest, PluginResolver } from './driver.js';
import { readVirtkitConfig, type VirtkitConfig } from './config.js';

const KINDS = new Set(['hypervisor', 'storage-backend', 'network-mode', 'remote', 'other']);

export interface LoaderOptions {
  /** Folders to start node_modules lookups from (the CLI's own folder, the current project). */
  roots?: string[];
  /** Extra plugin folders (VIRTKIT_PLUGIN_PATH, ':'-separated). */
  pluginPath?: string;
  /** Modules named in the config file (`plugins = [ … ]`). */
  configModules?: string[];
}

/** A package that looked like a plugin but could not be read. */
export interface PluginProblem {
  where: string;
  cause: string;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Every node_modules folder from `start` up to the file system root. */
function nodeModulesChain(start: string): string[] {
  const out: string[] = [];
  let dir = resolve(start);
  for (;;) {
    const nm = join(dir, 'node_modules');
    if (isDir(nm)) out.push(nm);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

/** Package folders in a node_modules folder whose names plugins may have. */
function candidatePackages(nm: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(nm);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.startsWith('virtkit-driver-') || e.startsWith('virtkit-plugin-')) out.push(join(nm, e));
    else if (e.startsWith('@')) {
      let scoped: string[];
      try {
        scoped = readdirSync(join(nm, e));
      } catch {
        continue;
      }
      for (const s of scoped) {
        if (e === '@virtkit' || s.startsWith('virtkit-driver-') || s.startsWith('virtkit-plugin-')) out.push(join(nm, e, s));
      }
    }
  }
  return out;
}

/**
 * Finds installed plugins by reading package.json files only (nothing is
 * imported until a URI needs it): the `virtkit` field says what a package
 * provides. First found wins when a name appears twice, in this order:
 * config-file modules, VIRTKIT_PLUGIN_PATH, then the node_modules chains of
 * the given roots.
 */
export class PluginLoader implements PluginResolver {
  private readonly manifests = new Map<string, PluginManifest>();
  readonly problems: PluginProblem[] = [];
  private readonly modules = new Map<string, Promise<unknown>>();

  constructor(opts: LoaderOptions = {}) {
    for (const m of opts.configModules ?? []) this.addModuleSpec(m);
    for (const p of (opts.pluginPath ?? '').split(':').filter(Boolean)) this.addFolder(p);
    const seen = new Set<string>();
    for (const root of opts.roots ?? [process.cwd()]) {
      for (const nm of nodeModulesChain(root)) {
        if (seen.has(nm)) continue;
        seen.add(nm);
        for (const pkg of candidatePackages(nm)) this.addPackage(pkg, false);
      }
    }
  }

  /** A loader for this process: the CLI's tree, the current project, VIRTKIT_PLUGIN_PATH and the config file. */
  static forProcess(extraRoots: string[] = [], config?: VirtkitConfig): PluginLoader {
    let configModules: string[] = [];
    const problems: PluginProblem[] = [];
    try {
      configModules = (config ?? readVirtkitConfig()).plugins;
    } catch (err) {
      problems.push({ where: 'config file', cause: (err as Error).message });
    }
    const loader = new PluginLoader({
      roots: [...extraRoots, process.cwd()],
      pluginPath: process.env.VIRTKIT_PLUGIN_PATH,
      configModules,
    });
    loader.problems.push(...problems);
    return loader;
  }

  private addModuleSpec(spec: string): void {
    if (isAbsolute(spec)) {
      if (isDir(spec)) this.addPackage(spec, true);
      else this.problems.push({ where: spec, cause: 'plugin module named in the config file is not a package folder' });
      return;
    }
    try {
      const req = createRequire(join(process.cwd(), 'noop.js'));
      const pj = req.resolve(`${spec}/package.json`);
      this.addPackage(dirname(pj), true);
    } catch (err) {
      this.problems.push({ where: spec, cause: `cannot resolve plugin package: ${(err as Error).message.split('\n')[0]}` });
    }
  }

  /** A folder of VIRTKIT_PLUGIN_PATH is a plugin package itself or holds plugin packages. */
  private addFolder(dir: string): void {
    if (!isDir(dir)) {
      this.problems.push({ where: dir, cause: 'VIRTKIT_PLUGIN_PATH entry is not a folder' });
      return;
    }
    if (existsSync(join(dir, 'package.json'))) {
      this.addPackage(dir, true);
      return;
    }
    for (const pkg of candidatePackages(dir)) this.addPackage(pkg, false);
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (!e.startsWith('@') && isDir(p) && existsSync(join(p, 'package.json'))) this.addPackage(p, false);
    }
  }

  private addPackage(dir: string, explicit: boolean): void {
    const pj = readJson(join(dir, 'package.json'));
    if (!pj) {
      if (explicit) this.problems.push({ where: dir, cause: 'package.json is missing or not valid JSON' });
      return;
    }
    const v = pj.virtkit as Record<string, unknown> | undefined;
    const name = String(pj.name ?? dir);
    if (!v || typeof v !== 'object') {
      if (explicit) this.problems.push({ where: name, cause: "package.json has no 'virtkit' field" });
      return;
    }
    if (this.manifests.has(name)) return;
    const kind = String(v.kind ?? '');
    if (!KINDS.has(kind)) {
      this.problems.push({ where: name, cause: `unknown plugin kind '${kind}'` });
      return;
    }
    const strings = (x: unknown) => (Array.isArray(x) ? x.map(String) : undefined);
    const manifest: PluginManifest = {
      name,
      version: String(pj.version ?? '0.0.0'),
      dir,
      kind: kind as PluginManifest['kind'],
      entry: typeof v.entry === 'string' ? v.entry : entryOf(pj),
    };
    const schemes = strings(v.schemes);
    const poolTypes = strings(v.poolTypes);
    const modes = strings(v.modes);
    const caps = strings(v.capabilities);
    if (schemes) manifest.schemes = schemes;
    if (poolTypes) manifest.poolTypes = poolTypes;
    if (modes) manifest.modes = modes;
    if (caps) manifest.capabilities = caps;
    this.manifests.set(name, manifest);
  }

  list(): PluginManifest[] {
    return [...this.manifests.values()];
  }

  /** The plugin that opens a URI scheme, if any. */
  findHypervisor(scheme: string): PluginManifest | undefined {
    return this.list().find((m) => m.kind === 'hypervisor' && m.schemes?.includes(scheme));
  }

  findRemote(): PluginManifest | undefined {
    return this.list().find((m) => m.kind === 'remote');
  }

  /** Imports a plugin's module once; failures name the package and the cause. */
  load(manifest: PluginManifest): Promise<unknown> {
    let p = this.modules.get(manifest.name);
    if (!p) {
      const file = resolve(manifest.dir, manifest.entry ?? 'index.js');
      p = import(pathToFileURL(file).href).catch((err: unknown) => {
        this.modules.delete(manifest.name);
        throw new VirtError('NO_CONNECT', `plugin '${manifest.name}' (${manifest.dir}) failed to load: ${(err as Error).message ?? String(err)}`, {
          origin: 'loader',
          cause: err,
        });
      });
      this.modules.set(manifest.name, p);
    }
    return p;
  }

  /** The default export of a plugin module. */
  async loadDefault<T>(manifest: PluginManifest): Promise<T> {
    const mod = (await this.load(manifest)) as { default?: unknown };
    if (mod.default === undefined) {
      throw new VirtError('NO_CONNECT', `plugin '${manifest.name}' has no default export`, { origin: 'loader' });
    }
    return mod.default as T;
  }

  async storageBackend(poolType: string): Promise<unknown | undefined> {
    const m = this.list().find((x) => x.kind === 'storage-backend' && x.poolTypes?.includes(poolType));
    if (!m) return undefined;
    const factory = await this.loadDefault<unknown>(m);
    return typeof factory === 'function' ? (factory as (t: string) => unknown)(poolType) : factory;
  }

  async networkMode(mode: string): Promise<unknown | undefined> {
    const m = this.list().find((x) => x.kind === 'network-mode' && x.modes?.includes(mode));
    if (!m) return undefined;
    const factory = await this.loadDefault<unknown>(m);
    return typeof factory === 'function' ? (factory as (t: string) => unknown)(mode) : factory;
  }
}

/** The module a package's main export points at. */
function entryOf(pj: Record<string, unknown>): string {
  const exp = pj.exports as unknown;
  const pick = (x: unknown): string | undefined => {
    if (typeof x === 'string') return x;
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      return pick(o.import) ?? pick(o.default) ?? pick(o.node);
    }
    return undefined;
  };
  if (exp && typeof exp === 'object' && '.' in (exp as object)) {
    const e = pick((exp as Record<string, unknown>)['.']);
    if (e) return e;
  } else {
    const e = pick(exp);
    if (e) return e;
  }
  return typeof pj.main === 'string' ? pj.main : 'index.js';
}
