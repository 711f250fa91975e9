import { UsageError } from './context.js';

/**
 * `ibmcloud cr` names its commands with hyphens (`image-list`, `retention-policy-set`), and people
 * who come from it type them by habit. Each such name is rewritten to the Wharf command it means
 * before the command line is parsed; the options are Wharf's (see each command's --help).
 */
const IBMCLOUD_NAMES: Record<string, string[]> = {
  'image-list': ['image', 'list'],
  'image-digests': ['image', 'digests'],
  'digests': ['image', 'digests'],
  'image-inspect': ['image', 'inspect'],
  'image-tag': ['image', 'tag'],
  'image-rm': ['image', 'rm'],
  'image-untag': ['image', 'rm'],
  'image-restore': ['image', 'restore'],
  'image-prune-untagged': ['prune-untagged'],
  'namespace-add': ['namespace', 'add'],
  'namespace-list': ['namespace', 'list'],
  'namespaces': ['namespace', 'list'],
  'namespace-rm': ['namespace', 'rm'],
  'quota-set': ['quota', 'set'],
  'retention-policy-list': ['retention', 'list'],
  'retention-policy-set': ['retention', 'set'],
  'retention-run': ['retention', 'run'],
  'trash-list': ['trash', 'list'],
  'exemption-add': ['exemption', 'add'],
  'exemption-list': ['exemption', 'list'],
  'exemption-rm': ['exemption', 'rm'],
  'vulnerability-assessment': ['va'],
};

/** `ibmcloud cr images` and `ibmcloud cr quota` list and show; in Wharf they are groups, whose default this is. */
const GROUP_DEFAULTS: Record<string, string[]> = {
  images: ['image', 'list'],
  quota: ['quota', 'get'],
};

export const ibmcloudNames = Object.keys(IBMCLOUD_NAMES);

/** `argv` (node, script, command, …) with an `ibmcloud cr` command name replaced by Wharf's. */
export function translateIbmcloudNames(argv: string[]): string[] {
  const [node, script, command, ...rest] = argv;
  if (command === undefined) return argv;
  const next = rest[0];
  const wantsHelp = rest.includes('-h') || rest.includes('--help');
  if (GROUP_DEFAULTS[command] && !wantsHelp && (next === undefined || next.startsWith('-'))) {
    return [node!, script!, ...GROUP_DEFAULTS[command]!, ...rest];
  }
  const wharf = IBMCLOUD_NAMES[command];
  if (!wharf) return argv;
  if (command === 'image-untag') {
    // `wharf image rm` by digest moves the image to the trash: more than untagging.
    const digest = rest.find((arg) => !arg.startsWith('-') && arg.includes('@'));
    if (digest) throw new UsageError(`image-untag removes tags: give namespace/repository:tag, not ${digest} (wharf image rm <image>@<digest> moves an image to the trash)`);
  }
  return [node!, script!, ...wharf, ...rest];
}
