import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A real rpmdb.sqlite made by rpm itself: rpmbuild builds two tiny packages from one spec (a main
 * package with an epoch and a -libs subpackage, so the source RPM's name differs from one binary's),
 * `rpm --initdb` creates the database under a throwaway root, `rpm -i --justdb` records them, and
 * `rpm --import` adds a real signing key (Debian's bookworm release key) as rpm's gpg-pubkey
 * pseudo-package. `oracle` is what `rpm -qa` says about the same database.
 */
export interface RealRpmdb {
  /** The bytes of <root>/var/lib/rpm/rpmdb.sqlite. */
  sqlite: Buffer;
  /** Lines of `rpm -qa --qf '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}\n'`, sorted. */
  oracle: string[];
}

const SPEC = `Name: wharf-probe
Version: 1.2.3
Release: 4.fc39
Epoch: 2
License: MIT
Summary: A probe package for Wharf's RPM detector
BuildArch: noarch

%description
A probe package for Wharf's RPM detector.

%package libs
Summary: The probe's library part

%description libs
The probe's library part.

%install
mkdir -p %{buildroot}/usr/share/wharf-probe
echo hello > %{buildroot}/usr/share/wharf-probe/hello.txt
echo lib > %{buildroot}/usr/share/wharf-probe/lib.txt

%files
/usr/share/wharf-probe/hello.txt

%files libs
/usr/share/wharf-probe/lib.txt
`;

const KEYRING = '/usr/share/keyrings/debian-archive-bookworm-stable.gpg';

function run(cmd: string, args: string[]): { ok: true; stdout: string } | { ok: false; reason: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { ok: false, reason: `${cmd}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `\`${cmd} ${args.join(' ')}\` exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}` };
  return { ok: true, stdout: r.stdout };
}

/** Builds the database, or answers why it cannot be built here (the reason to skip with). */
export function buildRealRpmdb(): RealRpmdb | string {
  for (const tool of ['rpm', 'rpmbuild']) {
    const v = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (v.error || v.status !== 0) return `${tool} is not installed (apt-get install rpm)`;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wharf-rpmdb-'));
  try {
    const top = path.join(tmp, 'top');
    for (const d of ['SPECS', 'SOURCES', 'BUILD', 'BUILDROOT', 'RPMS', 'SRPMS']) mkdirSync(path.join(top, d), { recursive: true });
    const spec = path.join(top, 'SPECS', 'wharf-probe.spec');
    writeFileSync(spec, SPEC);
    const built = run('rpmbuild', ['--define', `_topdir ${top}`, '-bb', spec]);
    if (!built.ok) return built.reason;
    const rpms = readdirSync(path.join(top, 'RPMS', 'noarch')).filter((f) => f.endsWith('.rpm')).map((f) => path.join(top, 'RPMS', 'noarch', f));
    if (rpms.length !== 2) return `rpmbuild made ${rpms.length} packages, not 2: ${rpms.join(', ')}`;
    const root = path.join(tmp, 'root');
    mkdirSync(root);
    const rpm = (...args: string[]) => run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', ...args]);
    const init = rpm('--initdb');
    if (!init.ok) return init.reason;
    const installed = rpm('-i', '--nodeps', '--noscripts', '--justdb', ...rpms);
    if (!installed.ok) return installed.reason;
    const key = run('gpg', ['--no-default-keyring', '--keyring', KEYRING, '--export', '--armor']);
    if (key.ok && key.stdout.includes('BEGIN PGP PUBLIC KEY BLOCK')) {
      writeFileSync(path.join(tmp, 'key.asc'), key.stdout);
      const imported = rpm('--import', path.join(tmp, 'key.asc'));
      if (!imported.ok) return imported.reason;
    }
    const q = rpm('-qa', '--qf', '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}\\n');
    if (!q.ok) return q.reason;
    let sqlite: Buffer;
    try {
      sqlite = readFileSync(path.join(root, 'var', 'lib', 'rpm', 'rpmdb.sqlite'));
    } catch (err) {
      return `rpm did not write an SQLite database (is its backend sqlite? \`rpm --showrc | grep _db_backend\`): ${(err as Error).message}`;
    }
    return { sqlite, oracle: q.stdout.split('\n').filter(Boolean).sort() };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
