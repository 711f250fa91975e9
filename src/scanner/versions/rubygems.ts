/**
 * RubyGems version comparison, as Gem::Version#<=> (rubygems/version.rb): a version is split into
 * numbers and letter runs ("1.0.b1" -> 1, 0, "b", 1; a "-" reads as ".pre."), trailing zeros of
 * the release part and of the prerelease part are dropped (1.0 == 1), then segments compare in
 * order: numbers numerically, letters as strings, a letter run below a number (1.0.a < 1.0), a
 * missing segment as 0.
 */

type Segment = number | string;

function canonicalSegments(version: string): Segment[] {
  // Gem::Version::ANCHORED_VERSION_PATTERN
  if (!/^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$/.test(version)) throw new Error(`"${version}" is not a RubyGems version`);
  const v = version.trim().replace(/-/g, '.pre.');
  const segments: Segment[] = (v.match(/[0-9]+|[a-z]+/gi) ?? []).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const stringStart = segments.findIndex((s) => typeof s === 'string');
  const release = stringStart < 0 ? segments : segments.slice(0, stringStart);
  const pre = stringStart < 0 ? [] : segments.slice(stringStart);
  const trim = (list: Segment[]): Segment[] => {
    let end = list.length;
    while (end > 0 && list[end - 1] === 0) end--;
    return list.slice(0, end);
  };
  return [...trim(release), ...trim(pre)];
}

export function compareRubyGems(a: string, b: string): number {
  const l = canonicalSegments(a);
  const r = canonicalSegments(b);
  for (let i = 0; i < Math.max(l.length, r.length); i++) {
    const x = l[i] ?? 0;
    const y = r[i] ?? 0;
    if (x === y) continue;
    if (typeof x === 'string' && typeof y === 'number') return -1;
    if (typeof x === 'number' && typeof y === 'string') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
