/**
 * Maven version comparison, as org.apache.maven.artifact.versioning.ComparableVersion (Maven 3):
 * a version is parsed into a list of items (numbers, qualifiers, and a sub-list after each "-"
 * or at a change between digits and letters), trailing "null" items (0, "", ga, final, release)
 * are dropped, and lists compare item by item. Qualifiers order as
 * alpha < beta < milestone < rc (= cr) < snapshot < "" (= ga, final, release) < sp, then unknown
 * qualifiers alphabetically; "a1", "b1", "m1" are alpha 1, beta 1, milestone 1.
 */

type Item = { kind: 'int'; value: bigint } | { kind: 'string'; value: string } | { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function stringItem(value: string, followedByDigit: boolean): Item {
  let v = value;
  if (followedByDigit && v.length === 1) v = v === 'a' ? 'alpha' : v === 'b' ? 'beta' : v === 'm' ? 'milestone' : v;
  return { kind: 'string', value: ALIASES[v] ?? v };
}

const parseItem = (isDigit: boolean, text: string): Item => (isDigit ? { kind: 'int', value: BigInt(text) } : stringItem(text, false));

function isNull(item: Item): boolean {
  switch (item.kind) {
    case 'int': return item.value === 0n;
    case 'string': return comparableQualifier(item.value) === RELEASE_INDEX;
    case 'list': return item.items.length === 0;
  }
}

function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const last = list[i]!;
    if (isNull(last)) list.splice(i, 1);
    else if (last.kind !== 'list') break;
  }
}

export function parseMavenVersion(version: string): Item {
  const v = version.toLowerCase();
  const root: Item & { kind: 'list' } = { kind: 'list', items: [] };
  let list = root;
  const stack = [root];
  const openList = (): void => {
    const next: Item & { kind: 'list' } = { kind: 'list', items: [] };
    list.items.push(next);
    list = next;
    stack.push(next);
  };
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '.' || c === '-') {
      list.items.push(i === start ? { kind: 'int', value: 0n } : parseItem(isDigit, v.slice(start, i)));
      start = i + 1;
      if (c === '-') openList();
    } else if (c >= '0' && c <= '9') {
      if (!isDigit && i > start) {
        // A qualifier after a "." reads as after a "-" (1.0.0.CR1 is 1-rc-1), as Maven 3 parses it.
        if (list.items.length > 0) openList();
        list.items.push(stringItem(v.slice(start, i), true));
        start = i;
        openList();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(true, v.slice(start, i)));
        start = i;
        openList();
      }
      isDigit = false;
    }
  }
  if (v.length > start) {
    // A trailing ".X" qualifier reads as "-X" (1.0.0.X1 < 1.0.0-X2), as Maven 3 parses it.
    if (!isDigit && list.items.length > 0) openList();
    list.items.push(parseItem(isDigit, v.slice(start)));
  }
  while (stack.length > 0) normalize(stack.pop()!.items);
  return root;
}

function compareItems(a: Item | undefined, b: Item | undefined): number {
  if (a === undefined) return b === undefined ? 0 : -compareItems(b, undefined);
  switch (a.kind) {
    case 'int':
      if (b === undefined) return a.value === 0n ? 0 : 1;
      if (b.kind === 'int') return a.value === b.value ? 0 : a.value < b.value ? -1 : 1;
      return 1; // 1.1 > 1-sp, 1.1 > 1-1
    case 'string': {
      if (b === undefined) return Math.sign(cmp(comparableQualifier(a.value), RELEASE_INDEX));
      if (b.kind === 'int' || b.kind === 'list') return -1;
      return Math.sign(cmp(comparableQualifier(a.value), comparableQualifier(b.value)));
    }
    case 'list': {
      if (b === undefined) return a.items.length === 0 ? 0 : compareItems(a.items[0], undefined);
      if (b.kind === 'int') return -1;
      if (b.kind === 'string') return 1;
      for (let i = 0; i < Math.max(a.items.length, b.items.length); i++) {
        const r = compareItems(a.items[i], b.items[i]);
        if (r !== 0) return r;
      }
      return 0;
    }
  }
}

const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

export function compareMaven(a: string, b: string): number {
  if (a.trim() === '' || b.trim() === '') throw new Error('an empty string is not a Maven version');
  return compareItems(parseMavenVersion(a), parseMavenVersion(b));
}
