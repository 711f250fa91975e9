import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configChecks, parseImageConfig, runConfigChecks, type ConfigCheckInput } from '../../../src/scanner/config-checks/index.js';
import { secretName } from '../../../src/scanner/config-checks/secrets.js';
import { parseDpkgStatus } from '../../../src/scanner/detectors/dpkg.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'scanner');
const loginDefs = readFileSync(path.join(fixtures, 'login.defs-debian-12')); // Debian 12's shipped /etc/login.defs

function input(over: { config?: unknown; files?: Record<string, string | Buffer>; ww?: ConfigCheckInput['worldWritable']; markers?: string[]; packages?: ConfigCheckInput['packages'] } = {}): ConfigCheckInput {
  return {
    config: parseImageConfig(over.config ?? { config: { User: '10001' } }),
    files: new Map(Object.entries(over.files ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
    worldWritable: over.ww ?? [],
    markers: new Set(over.markers ?? []),
    packages: over.packages ?? [],
  };
}
const ids = (i: ConfigCheckInput): string[] => runConfigChecks(i).map((x) => x.checkId);
const check = (id: string) => configChecks.find((c) => c.id === id)!;

describe('configuration check catalogue', () => {
  it('every check has a stable, exemptable ID, a title, a description and a remediation', () => {
    const seen = new Set<string>();
    for (const c of configChecks) {
      assert.match(c.id, /^[A-Za-z0-9][A-Za-z0-9._:-]{1,99}$/);
      assert.ok(!seen.has(c.id));
      seen.add(c.id);
      assert.ok(c.title && c.description.length > 40 && c.remediation.length > 20, c.id);
    }
  });
  it('a clean image passes every check', () => assert.deepEqual(ids(input()), []));
});

describe('image.runs-as-root', () => {
  const c = check('image.runs-as-root');
  it('trips without USER, with USER root, 0, 0:0, and a name that is uid 0 in /etc/passwd', () => {
    for (const User of [undefined, '', 'root', '0', '0:0', 'root:wheel']) assert.equal(c.run(input({ config: { config: { User } } })).length, 1, String(User));
    assert.equal(c.run(input({ config: { config: { User: 'toor' } }, files: { '/etc/passwd': 'root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\n' } })).length, 1);
    assert.equal(c.run(input({ config: {} })).length, 1);
  });
  it('passes with a numeric or named unprivileged user', () => {
    assert.deepEqual(c.run(input({ config: { config: { User: '1000:1000' } } })), []);
    assert.deepEqual(c.run(input({ config: { config: { User: 'app' } }, files: { '/etc/passwd': 'app:x:999:999::/app:/bin/sh\n' } })), []);
  });
});

describe('SSH', () => {
  const server = check('image.ssh-server');
  const port = check('image.ssh-port-exposed');
  const status = readFileSync(path.join(fixtures, 'dpkg-status'), 'utf8');
  it('trips on an openssh-server or dropbear package or /usr/sbin/sshd', () => {
    // A real paragraph with the package renamed to openssh-server.
    const ssh = parseDpkgStatus(status.replace('Package: openssl\n', 'Package: openssh-server\n'));
    assert.deepEqual(server.run(input({ packages: ssh })), ['package openssh-server 3.0.19-1~deb12u2']);
    assert.equal(server.run(input({ packages: [{ type: 'apk', name: 'dropbear', version: '2022.83-r4' }] })).length, 1);
    assert.deepEqual(server.run(input({ markers: ['/usr/sbin/sshd'] })), ['/usr/sbin/sshd exists']);
  });
  it('passes with only the SSH client and no daemon', () => {
    assert.deepEqual(server.run(input({ packages: [...parseDpkgStatus(status), { type: 'deb', name: 'openssh-client', version: '1:9.2p1-2' }] })), []);
  });
  it('port 22 exposed trips; other ports do not', () => {
    assert.deepEqual(port.run(input({ config: { config: { ExposedPorts: { '22/tcp': {}, '8080/tcp': {} } } } })), ['EXPOSE 22/tcp']);
    assert.deepEqual(port.run(input({ config: { config: { ExposedPorts: { '2222/tcp': {}, '8022/tcp': {} } } } })), []);
  });
});

describe('image.secret-in-env', () => {
  const c = check('image.secret-in-env');
  const env = (...Env: string[]) => input({ config: { config: { User: '1', Env } } });
  it('trips on secret names with values and on secret-looking values, never printing the value', () => {
    const out = c.run(
      env(
        'DB_PASSWORD=hunter2',
        'GITHUB_TOKEN=abc',
        'API_KEY=k',
        'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        'KEY_MATERIAL=-----BEGIN RSA PRIVATE KEY-----\nMIIE...',
        'SOMETHING=AKIAIOSFODNN7EXAMPLE',
        `GH=ghp_${'a'.repeat(36)}`,
      ),
    );
    assert.equal(out.length, 7);
    assert.ok(out.every((l) => !/hunter2|wJalr|AKIAIOSF|ghp_/.test(l)));
    assert.match(out[4]!, /private key/);
    assert.match(out[5]!, /AWS access key id/);
    assert.match(out[6]!, /GitHub token/);
  });
  it('passes on ordinary variables, empty secrets and *_FILE pointers (official images set these)', () => {
    // From the official python, postgres and node images.
    assert.deepEqual(c.run(env('PATH=/usr/local/bin:/usr/bin', 'GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D', 'POSTGRES_PASSWORD_FILE=/run/secrets/pg', 'NODE_VERSION=20.11.0', 'MYSQL_PASSWORD=', 'PWD=/app')), []);
    assert.equal(secretName('TOKEN_URL'), false);
    assert.equal(secretName('client_secret'), true);
  });
});

describe('/etc/login.defs (as IBM Vulnerability Advisor checks it)', () => {
  it("Debian 12's shipped login.defs trips all three: PASS_MAX_DAYS 99999, PASS_MIN_DAYS 0, no PASS_MIN_LEN", () => {
    const issues = runConfigChecks(input({ files: { '/etc/login.defs': loginDefs } }));
    assert.deepEqual(issues.map((i) => i.checkId), ['os.login-defs.pass-max-days', 'os.login-defs.pass-min-days', 'os.login-defs.pass-min-len']);
    assert.match(issues[0]!.detail, /PASS_MAX_DAYS is 99999/);
    assert.match(issues[2]!.detail, /not set.*default 5/);
  });
  it('the same file hardened passes', () => {
    const hardened = `${loginDefs.toString().replace(/^PASS_MAX_DAYS\s.*$/m, 'PASS_MAX_DAYS\t90').replace(/^PASS_MIN_DAYS\s.*$/m, 'PASS_MIN_DAYS\t1')}\nPASS_MIN_LEN\t8\n`;
    assert.deepEqual(ids(input({ files: { '/etc/login.defs': hardened } })), []);
  });
  it('is not applicable without /etc/login.defs', () => assert.deepEqual(ids(input({ files: {} })), []));
});

describe('fs.world-writable', () => {
  const c = check('fs.world-writable');
  it('trips on recorded world-writable entries and shows their mode', () => {
    assert.deepEqual(c.run(input({ ww: [{ path: '/usr/local/bin/tool', kind: 'file', mode: 0o777 }] })), ['/usr/local/bin/tool (file, mode 0777)']);
  });
  it('passes when there are none', () => assert.deepEqual(c.run(input()), []));
});

describe('history checks', () => {
  const add = check('build.add-from-url');
  const latest = check('build.latest-base');
  const hist = (...created_by: string[]) => input({ config: { config: { User: '1' }, history: created_by.map((c) => ({ created_by: c })) } });
  it('ADD from a URL trips (BuildKit and classic builder forms); ADD of local files and ADD --checksum do not', () => {
    assert.deepEqual(add.run(hist('ADD https://example.com/app.tar.gz /opt/ # buildkit', '/bin/sh -c #(nop) ADD --chown=1:1 http://x.test/f /f')), [
      'ADD https://example.com/app.tar.gz',
      'ADD http://x.test/f',
    ]);
    assert.deepEqual(add.run(hist('/bin/sh -c #(nop) ADD file:6fef7a4ab2de57c438dad76949822ad5a9a8e60cc6e0c9e3e0d1b9d0c2a1f0e3 in / ', 'ADD --checksum=sha256:abc https://e.test/x /x # buildkit', 'RUN curl https://e.test')), []);
  });
  it('a latest or untagged base in the history (buildah records FROM in the comment) trips; pinned bases do not', () => {
    const tripped = input({ config: { history: [{ created_by: '/bin/sh -c #(nop) FROM debian', comment: '' }, { created_by: 'x', comment: 'FROM docker.io/library/alpine:latest' }] } });
    assert.deepEqual(latest.run(tripped), ['FROM debian', 'FROM docker.io/library/alpine:latest']);
    assert.equal(latest.run(input({ config: { config: { Labels: { 'org.opencontainers.image.base.name': 'docker.io/library/node' } } } })).length, 1);
    const pinned = input({ config: { history: [{ comment: 'FROM debian:12.5' }, { comment: 'FROM localhost:5000/base@sha256:abc' }, { comment: 'FROM scratch' }, { created_by: 'FROM $BASE' }] } });
    assert.deepEqual(latest.run(pinned), []);
  });
  it('only a FROM instruction names a base: the word "from" inside CMD, RUN or free text does not', () => {
    const words = input({ config: { history: [
      { created_by: 'CMD ["echo","hello from x"]' },
      { created_by: '/bin/sh -c #(nop)  CMD ["echo" "hello from x"]' },
      { created_by: 'RUN /bin/sh -c echo "copy FROM y" > /etc/motd # buildkit' },
      { created_by: '/bin/sh -c apt-get install -y --no-install-recommends curl && curl -o /a https://e.test/a FROM z' },
      { created_by: 'LABEL description=built from alpine' },
      { comment: 'imported from a tarball' },
    ] } });
    assert.deepEqual(latest.run(words), []);
    const flagged = input({ config: { history: [{ comment: 'FROM --platform=linux/amd64 golang AS build' }, { created_by: 'x', comment: 'FROM debian:12 AS run' }] } });
    assert.deepEqual(latest.run(flagged), ['FROM golang']);
  });
  it('ADD from a URL is read from the instruction, not from a URL mentioned in another one', () => {
    assert.deepEqual(add.run(hist('RUN /bin/sh -c echo "ADD https://e.test/x /x" # buildkit', 'CMD ["ADD","https://e.test/y","/y"]')), []);
    assert.deepEqual(add.run(hist('ADD ["https://e.test/a.tgz","/opt/"] # buildkit', 'ADD https://e.test/one https://e.test/two /dir/ # buildkit')), [
      'ADD https://e.test/a.tgz', 'ADD https://e.test/one', 'ADD https://e.test/two',
    ]);
  });
});
