/** RELAX NG name classes: which element or attribute names a pattern accepts. */
export type NameClass =
  | { kind: 'name'; ns: string; local: string }
  | { kind: 'anyName'; except?: NameClass }
  | { kind: 'nsName'; ns: string; except?: NameClass }
  | { kind: 'choice'; a: NameClass; b: NameClass };

export function nameClassContains(nc: NameClass, ns: string, local: string): boolean {
  switch (nc.kind) {
    case 'name':
      return nc.ns === ns && nc.local === local;
    case 'anyName':
      return !nc.except || !nameClassContains(nc.except, ns, local);
    case 'nsName':
      return nc.ns === ns && (!nc.except || !nameClassContains(nc.except, ns, local));
    case 'choice':
      return nameClassContains(nc.a, ns, local) || nameClassContains(nc.b, ns, local);
  }
}

/** A stable text form, part of the hash-consing key of element and attribute patterns. */
export function nameClassKey(nc: NameClass): string {
  switch (nc.kind) {
    case 'name':
      return `{${nc.ns}}${nc.local}`;
    case 'anyName':
      return nc.except ? `*-(${nameClassKey(nc.except)})` : '*';
    case 'nsName':
      return nc.except ? `{${nc.ns}}*-(${nameClassKey(nc.except)})` : `{${nc.ns}}*`;
    case 'choice':
      return `(${nameClassKey(nc.a)}|${nameClassKey(nc.b)})`;
  }
}

/** For messages: the names a name class lists ("name", "devices"), or a wildcard. */
export function describeNameClass(nc: NameClass): string[] {
  switch (nc.kind) {
    case 'name':
      return [nc.local];
    case 'anyName':
      return ['any name'];
    case 'nsName':
      return [`any name in ${nc.ns}`];
    case 'choice':
      return [...describeNameClass(nc.a), ...describeNameClass(nc.b)];
  }
}
