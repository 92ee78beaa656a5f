/**
 * Bridge names for L3 networks that give none, or give a template such as
 * "virbr%d" (libvirt's networkFindUnusedBridgeName).
 */
import { netError } from './errors.js';
import { networkIsL3Managed, type NetworkDef } from './types.js';

/** libvirt's default template and highest id tried. */
export const DEFAULT_BRIDGE_TEMPLATE = 'virbr%d';
const MAX_BRIDGE_ID = 256;

/**
 * Gives an L3 network (isolated, nat, route, open) a concrete bridge name
 * when it has none or a "%d" template: the first "<template with id>" for
 * which `isTaken` is false (the caller checks other networks' bridges and
 * existing host devices). Returns the name; other modes are left alone.
 */
export function assignBridgeName(
  def: NetworkDef,
  isTaken: (name: string) => boolean,
  defaultTemplate = DEFAULT_BRIDGE_TEMPLATE,
): string | undefined {
  if (!networkIsL3Managed(def)) return def.bridge?.name;
  const given = def.bridge?.name;
  if (given !== undefined && !given.includes('%d')) return given;
  const template = given ?? defaultTemplate;
  for (let id = 0; id <= MAX_BRIDGE_ID; id++) {
    const name = template.replace('%d', String(id));
    if (!isTaken(name)) {
      def.bridge = { ...(def.bridge ?? {}), name };
      return name;
    }
  }
  throw netError('INTERNAL_ERROR', `network '${def.name}'`, `Bridge generation exceeded max id ${MAX_BRIDGE_ID}`);
}
