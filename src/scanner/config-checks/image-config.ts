/**
 * The parts of an OCI image configuration (image-spec config.md; Docker's is the same shape)
 * that the configuration checks read. Parsed defensively: the blob is user input.
 */
export interface ImageConfig {
  user?: string;
  env: Array<{ name: string; value: string }>;
  exposedPorts: string[];
  labels: Record<string, string>;
  history: Array<{ createdBy: string; comment: string; emptyLayer: boolean }>;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string => (typeof x === 'string' ? x : '');

export function parseImageConfig(json: unknown): ImageConfig {
  const root = isObj(json) ? json : {};
  const c = isObj(root.config) ? root.config : {};
  const out: ImageConfig = { env: [], exposedPorts: [], labels: {}, history: [] };
  if (typeof c.User === 'string') out.user = c.User;
  if (Array.isArray(c.Env)) {
    for (const e of c.Env) {
      if (typeof e !== 'string') continue;
      const eq = e.indexOf('=');
      out.env.push(eq < 0 ? { name: e, value: '' } : { name: e.slice(0, eq), value: e.slice(eq + 1) });
    }
  }
  if (isObj(c.ExposedPorts)) out.exposedPorts = Object.keys(c.ExposedPorts);
  if (isObj(c.Labels)) for (const [k, v] of Object.entries(c.Labels)) if (typeof v === 'string') out.labels[k] = v;
  if (Array.isArray(root.history)) {
    for (const h of root.history) {
      if (!isObj(h)) continue;
      out.history.push({ createdBy: str(h.created_by), comment: str(h.comment), emptyLayer: h.empty_layer === true });
    }
  }
  return out;
}
