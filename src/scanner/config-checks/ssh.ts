import type { ConfigCheck } from './types.js';

const SSH_SERVER_PACKAGES = new Set(['openssh-server', 'openssh-server-pam', 'dropbear', 'dropbear-bin', 'dropbear-run', 'tinyssh']);

export const sshServerInstalled: ConfigCheck = {
  id: 'image.ssh-server',
  title: 'An SSH server is installed',
  description:
    'The image contains an SSH server. Containers are reached with `exec`, not SSH; an SSH daemon adds a network service with its own keys and passwords to protect.',
  remediation: 'Remove the SSH server from the image (for example `apt-get purge openssh-server` or drop it from the package list) and use `kubectl exec` or `podman exec` to get a shell.',
  severity: 'MEDIUM',
  run({ packages, markers }) {
    const out = packages.filter((p) => (p.type === 'deb' || p.type === 'apk' || p.type === 'rpm') && SSH_SERVER_PACKAGES.has(p.name)).map((p) => `package ${p.name} ${p.version}`);
    for (const m of [...markers].sort()) if (/\/(sshd|dropbear)$/.test(m)) out.push(`${m} exists`);
    return out;
  },
};

export const sshPortExposed: ConfigCheck = {
  id: 'image.ssh-port-exposed',
  title: 'Port 22 (SSH) is exposed',
  description: 'The image declares port 22, the SSH port, as exposed: it expects to be reached over SSH.',
  remediation: 'Remove `EXPOSE 22` from the Dockerfile; use `kubectl exec` or `podman exec` instead of SSH.',
  severity: 'LOW',
  run({ config }) {
    return config.exposedPorts.filter((p) => /^22(\/tcp)?$/i.test(p.trim())).map((p) => `EXPOSE ${p}`);
  },
};
