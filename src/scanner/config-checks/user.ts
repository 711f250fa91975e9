import type { ConfigCheck } from './types.js';

/** uid of a user name from /etc/passwd (name:x:uid:gid:…), if the image has one. */
function uidOf(name: string, passwd: Buffer | undefined): number | undefined {
  if (!passwd) return undefined;
  for (const line of passwd.toString('utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && /^[0-9]+$/.test(f[2])) return Number(f[2]);
  }
  return undefined;
}

export const runsAsRoot: ConfigCheck = {
  id: 'image.runs-as-root',
  title: 'The image runs as root',
  description:
    'The image configuration names no USER (or names root), so its processes run as uid 0. A process that is compromised then has root rights in the container and a shorter way out of it.',
  remediation: 'Create an unprivileged user in the Dockerfile and switch to it: `RUN useradd -r -u 10001 app` then `USER 10001`.',
  severity: 'MEDIUM',
  run({ config, files }) {
    const user = (config.user ?? '').trim();
    if (user === '') return ['no USER is set: processes run as root'];
    const name = user.split(':')[0]!;
    if (name === 'root' || /^0+$/.test(name)) return [`USER ${user}`];
    if (!/^[0-9]+$/.test(name) && uidOf(name, files.get('/etc/passwd')) === 0) return [`USER ${user} has uid 0 in /etc/passwd`];
    return [];
  },
};
