/** Every ID a record goes by: its own, its aliases and the upstream IDs it derives from. */
export function idsOf(rec: { id: string; aliases: readonly string[]; upstream: readonly string[] }): string[] {
  return [...new Set([rec.id, ...rec.aliases, ...rec.upstream])];
}

/**
 * Records of one vulnerability from different databases (a GHSA and a PYSEC of the same CVE, a
 * Debian DSA and its DEBIAN-CVE records) name each other through aliases and upstream IDs. Items
 * whose ID sets meet, directly or through a chain, are one vulnerability: grouped here with a
 * union-find over the IDs, in the order the items came.
 */
export function groupBySharedIds<T>(items: readonly T[], ids: (item: T) => readonly string[]): T[][] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const owner = new Map<string, number>();
  items.forEach((item, i) => {
    for (const id of ids(item)) {
      const j = owner.get(id);
      if (j === undefined) owner.set(id, i);
      else {
        const [a, b] = [find(i), find(j)];
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const groups = new Map<number, T[]>();
  items.forEach((item, i) => {
    const root = find(i);
    const g = groups.get(root);
    if (g) g.push(item);
    else groups.set(root, [item]);
  });
  return [...groups.values()];
}

const CVE = /^CVE-\d{4}-\d+$/;

/**
 * How many distinct vulnerabilities a set of findings names: each CVE once, however many
 * packages, advisories or databases report it, and each group of findings without a CVE once.
 * So loading a second feed, or a DSA that bundles three CVEs, never changes the count.
 */
export function countVulnerabilities<T>(items: readonly T[], ids: (item: T) => readonly string[]): number {
  let count = 0;
  const cves = new Set<string>();
  for (const group of groupBySharedIds(items, ids)) {
    const inGroup = new Set(group.flatMap((item) => ids(item).filter((id) => CVE.test(id))));
    if (inGroup.size === 0) count++;
    for (const c of inGroup) cves.add(c);
  }
  return count + cves.size;
}
