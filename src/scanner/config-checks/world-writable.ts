import type { ConfigCheck } from './types.js';

const SHOWN = 20;

export const worldWritableFiles: ConfigCheck = {
  id: 'fs.world-writable',
  title: 'World-writable files in system paths',
  description:
    'Files or directories under /bin, /sbin, /usr, /lib, /lib64, /etc, /boot or /opt can be written by any user (directories without the sticky bit): any process in the container can replace programs, libraries or configuration.',
  remediation: 'Remove write permission for others in the Dockerfile, e.g. `RUN chmod o-w <path>` (or `chmod +t` for a shared directory), or fix the mode where the file is created (COPY --chmod).',
  severity: 'MEDIUM',
  run({ worldWritable }) {
    const lines = worldWritable.map((w) => `${w.path} (${w.kind}, mode ${(w.mode & 0o7777).toString(8).padStart(4, '0')})`);
    return lines.length > SHOWN ? [...lines.slice(0, SHOWN), `and ${lines.length - SHOWN} more`] : lines;
  },
};
