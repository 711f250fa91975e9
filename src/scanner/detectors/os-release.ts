/**
 * /etc/os-release (or /usr/lib/os-release), per os-release(5): KEY=value lines, values optionally
 * quoted with shell rules. The scanner needs ID and VERSION_ID to pick the advisory ecosystem.
 */

export interface OsRelease {
  id: string;
  versionId?: string;
  versionCodename?: string;
  prettyName?: string;
  idLike: string[];
  fields: Record<string, string>;
}

function unquote(raw: string): string {
  const v = raw.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\([$"`\\])/g, '$1');
  }
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  return v;
}

export function parseOsRelease(content: string | Buffer): OsRelease | undefined {
  const fields: Record<string, string> = {};
  for (const line of content.toString('utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) fields[m[1]!] = unquote(m[2]!);
  }
  const id = fields.ID?.toLowerCase();
  if (!id) return undefined;
  const r: OsRelease = { id, idLike: (fields.ID_LIKE ?? '').split(/\s+/).filter(Boolean), fields };
  if (fields.VERSION_ID) r.versionId = fields.VERSION_ID;
  if (fields.VERSION_CODENAME) r.versionCodename = fields.VERSION_CODENAME;
  if (fields.PRETTY_NAME) r.prettyName = fields.PRETTY_NAME;
  return r;
}
