/**
 * Debian control-file paragraphs (deb822), as in /var/lib/dpkg/status: `Field: value` lines,
 * continuation lines start with a blank, paragraphs are separated by blank lines.
 */
export function parseControlParagraphs(content: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let last: string | undefined;
  for (const line of content.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (cur.size > 0) out.push(cur);
      cur = new Map();
      last = undefined;
    } else if (/^[ \t]/.test(line)) {
      if (last !== undefined) cur.set(last, `${cur.get(last)}\n${line.trim()}`);
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase(); // field names are case-insensitive
      cur.set(last, line.slice(colon + 1).trim());
    }
  }
  if (cur.size > 0) out.push(cur);
  return out;
}
