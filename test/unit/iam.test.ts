import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemError } from '../../src/errors/problem.js';
import type { Authorizer, RepositoryAccess } from '../../src/iam/authorizer.js';
import { throttleSource } from '../../src/iam/login-throttle.js';
import { namespaceNameProblem, namespaceOf } from '../../src/iam/namespace-names.js';
import { ANONYMOUS, parsePrincipalRef, principalLabel, principalRef, type Principal } from '../../src/iam/principal.js';
import { actionsOf, atLeast, parseRole, strongest } from '../../src/iam/roles.js';
import { grantScopes, parseScopes } from '../../src/iam/scopes.js';
import { generateApiKey, parseApiKey, safeEqual, sha256Hex } from '../../src/iam/secrets.js';
import { checkPassword, checkUsername } from '../../src/iam/user-rules.js';

describe('namespace name rules', () => {
  for (const good of ['abcd', '1234', 'team-a', 'team--a', 'te_am', 'team__a', 'a1-b2_c3', 'x'.repeat(30)]) {
    it(`accepts ${good}`, () => assert.equal(namespaceNameProblem(good), undefined));
  }
  // Each rule, with the message that names it; the first broken rule is the one reported.
  const cases: Array<[string, string]> = [
    ['abc', 'namespace name "abc" must be at least 4 characters long'],
    ['', 'namespace name "" must be at least 4 characters long'],
    ['A-', 'namespace name "A-" must be at least 4 characters long'],
    ['x'.repeat(31), `namespace name "${'x'.repeat(31)}" must be at most 30 characters long`],
    ['Team', 'namespace name "Team" may contain only lowercase letters, digits, "-" and "_"'],
    ['team.a', 'namespace name "team.a" may contain only lowercase letters, digits, "-" and "_"'],
    ['team/a', 'namespace name "team/a" may contain only lowercase letters, digits, "-" and "_"'],
    ['-team', 'namespace name "-team" must start with a letter or digit'],
    ['_team', 'namespace name "_team" must start with a letter or digit'],
    ['team-', 'namespace name "team-" must end with a letter or digit'],
    ['team_', 'namespace name "team_" must end with a letter or digit'],
    ['te_-am', 'namespace name "te_-am" may not have "_" next to "-" or three "_" in a row'],
    ['te-_am', 'namespace name "te-_am" may not have "_" next to "-" or three "_" in a row'],
    ['te___am', 'namespace name "te___am" may not have "_" next to "-" or three "_" in a row'],
  ];
  for (const [name, message] of cases) {
    it(`refuses ${JSON.stringify(name.slice(0, 20))}: ${message.split('" ').at(-1)}`, () => assert.equal(namespaceNameProblem(name), message));
  }
  it('quotes at most 60 characters of a long name', () => {
    const problem = namespaceNameProblem('y'.repeat(500))!;
    assert.equal(problem, `namespace name "${'y'.repeat(60)}" must be at most 30 characters long`);
  });
  it('the namespace of a repository is its first path component', () => {
    assert.deepEqual(namespaceOf('team/app'), { namespace: 'team', path: 'app' });
    assert.deepEqual(namespaceOf('team/a/b/c'), { namespace: 'team', path: 'a/b/c' });
    assert.deepEqual(namespaceOf('lonely'), { namespace: 'lonely', path: '' });
  });
});

describe('token scopes', () => {
  it('parses repository and catalog scopes, space-separated and repeated', () => {
    assert.deepEqual(parseScopes(['repository:ns/app:pull,push', 'repository:ns/b:pull registry:catalog:*']), [
      { type: 'repository', name: 'ns/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'ns/b', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });
  it('reads repository(plugin) as repository and keeps colons inside the name (host:port prefixes)', () => {
    assert.deepEqual(parseScopes(['repository(plugin):ns/app:pull']), [{ type: 'repository', name: 'ns/app', actions: ['pull'] }]);
    assert.deepEqual(parseScopes(['repository:localhost:5000/ns/app:pull']), [{ type: 'repository', name: 'localhost:5000/ns/app', actions: ['pull'] }]);
  });
  it('drops malformed scopes and empty actions', () => {
    assert.deepEqual(parseScopes(['', 'nonsense', 'repository:ns/app', 'repository:ns/app:', ':ns/app:pull', 'repository::pull', 'repository:ns/app:,,']), []);
    assert.deepEqual(parseScopes(['repository:ns/app:pull,,push']), [{ type: 'repository', name: 'ns/app', actions: ['pull', 'push'] }]);
  });

  const user: Principal = { kind: 'user', id: 1, accountId: 1, name: 'u', owner: false, apiKeyId: null, session: 's' };
  const authorizer = (access: RepositoryAccess) => ({ repositoryAccess: async () => access }) as unknown as Authorizer;
  const reader = authorizer({ actions: new Set(['pull']), createsNamespace: false });
  const writer = authorizer({ actions: new Set(['pull', 'push', 'delete']), createsNamespace: false });
  const nothing = authorizer({ actions: new Set(), createsNamespace: false });
  const creator = authorizer({ actions: new Set(['push']), createsNamespace: true });

  it('grants the intersection of what is asked and what IAM allows', async () => {
    assert.deepEqual(await grantScopes(reader, user, parseScopes(['repository:ns/app:pull,push'])), [{ type: 'repository', name: 'ns/app', actions: ['pull'] }]);
    assert.deepEqual(await grantScopes(writer, user, parseScopes(['repository:ns/app:push,pull,push'])), [{ type: 'repository', name: 'ns/app', actions: ['push', 'pull'] }]);
    assert.deepEqual(await grantScopes(nothing, user, parseScopes(['repository:ns/app:pull'])), [{ type: 'repository', name: 'ns/app', actions: [] }]);
  });
  it('grants `*` only with pull, push and delete, and never `manage`', async () => {
    assert.deepEqual(await grantScopes(writer, user, parseScopes(['repository:ns/app:*'])), [{ type: 'repository', name: 'ns/app', actions: ['*'] }]);
    assert.deepEqual(await grantScopes(reader, user, parseScopes(['repository:ns/app:*'])), [{ type: 'repository', name: 'ns/app', actions: [] }]);
    const manager = authorizer({ actions: new Set(['pull', 'push', 'delete', 'manage']), createsNamespace: false });
    assert.deepEqual(await grantScopes(manager, user, parseScopes(['repository:ns/app:manage'])), [{ type: 'repository', name: 'ns/app', actions: [] }]);
  });
  it('a free namespace name is granted only to a push that will create it', async () => {
    assert.deepEqual(await grantScopes(creator, user, parseScopes(['repository:new/app:pull,push'])), [{ type: 'repository', name: 'new/app', actions: ['pull', 'push'] }]);
    assert.deepEqual(await grantScopes(creator, user, parseScopes(['repository:new/app:pull'])), [{ type: 'repository', name: 'new/app', actions: [] }]);
    assert.deepEqual(await grantScopes(creator, user, parseScopes(['repository:new/app:delete'])), [{ type: 'repository', name: 'new/app', actions: [] }]);
  });
  it('the catalog is for logged-in principals; unknown types and invalid names get nothing', async () => {
    assert.deepEqual(await grantScopes(writer, user, parseScopes(['registry:catalog:*'])), [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.deepEqual(await grantScopes(writer, ANONYMOUS, parseScopes(['registry:catalog:*'])), [{ type: 'registry', name: 'catalog', actions: [] }]);
    assert.deepEqual(await grantScopes(writer, user, parseScopes(['registry:catalog:pull'])), [{ type: 'registry', name: 'catalog', actions: [] }]);
    assert.deepEqual(await grantScopes(writer, user, parseScopes(['thing:x:pull'])), [{ type: 'thing', name: 'x', actions: [] }]);
    assert.deepEqual(await grantScopes(writer, user, parseScopes(['repository:NS/App:pull', 'repository:ns/../x:pull'])), [
      { type: 'repository', name: 'NS/App', actions: [] },
      { type: 'repository', name: 'ns/../x', actions: [] },
    ]);
  });
});

describe('roles', () => {
  it('each role adds to the one below it', () => {
    assert.deepEqual(actionsOf(null), []);
    assert.deepEqual(actionsOf('reader'), ['pull']);
    assert.deepEqual(actionsOf('writer'), ['pull', 'push', 'delete']);
    assert.deepEqual(actionsOf('manager'), ['pull', 'push', 'delete', 'manage']);
  });
  it('strongest and atLeast order reader < writer < manager', () => {
    assert.equal(strongest(null, null), null);
    assert.equal(strongest(null, 'reader'), 'reader');
    assert.equal(strongest('writer', null), 'writer');
    assert.equal(strongest('reader', 'manager'), 'manager');
    assert.equal(strongest('writer', 'reader'), 'writer');
    assert.equal(atLeast(null, 'reader'), false);
    assert.equal(atLeast('reader', 'writer'), false);
    assert.equal(atLeast('writer', 'writer'), true);
    assert.equal(atLeast('manager', 'reader'), true);
    assert.equal(atLeast('writer', 'manager'), false);
  });
  it('parses role names case-insensitively and refuses others', () => {
    assert.equal(parseRole('Reader'), 'reader');
    assert.equal(parseRole('MANAGER'), 'manager');
    assert.equal(parseRole('admin'), undefined);
    assert.equal(parseRole(''), undefined);
  });
});

describe('principals, secrets and credentials rules', () => {
  it('principal references round-trip; anything else is refused', () => {
    const service: Principal = { kind: 'service', id: 7, accountId: 1, name: 'ci', apiKeyId: 3 };
    assert.equal(principalRef(service), 'service:7');
    assert.equal(principalRef(ANONYMOUS), 'anonymous');
    assert.equal(principalLabel(service), 'service ci');
    assert.deepEqual(parsePrincipalRef('user:12'), { kind: 'user', id: 12 });
    for (const bad of ['anonymous', 'group:1', 'user:', 'user:1x', 'user:-1', ' user:1', `user:${'9'.repeat(16)}`]) assert.equal(parsePrincipalRef(bad), undefined, bad);
  });
  it('API keys have a public prefix and are stored as a hash', () => {
    const key = generateApiKey();
    assert.match(key.key, /^wharf_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(parseApiKey(key.key), { prefix: key.prefix });
    assert.equal(key.hash, sha256Hex(key.key));
    assert.ok(!key.hash.includes(key.key.slice(19)));
    assert.equal(parseApiKey(`${key.key}x`), undefined);
    assert.equal(parseApiKey('a password'), undefined);
    assert.notEqual(generateApiKey().key, key.key);
  });
  it('safeEqual compares whole strings', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
    assert.equal(safeEqual('', ''), true);
  });
  it('usernames and passwords follow the rules, with messages that say which', () => {
    assert.doesNotThrow(() => checkUsername('alice.b-c_d'));
    for (const bad of ['ab', 'Alice', '-alice', 'iamapikey', 'a'.repeat(65), 'al ice']) {
      assert.throws(() => checkUsername(bad), (err: unknown) => err instanceof ProblemError && err.status === 400 && /3 to 64 characters/.test(err.message), bad);
    }
    assert.doesNotThrow(() => checkPassword('x'.repeat(12)));
    assert.throws(() => checkPassword('x'.repeat(11)), /at least 12 characters/);
    assert.throws(() => checkPassword('x'.repeat(1025)), /at most 1024 characters/);
  });
});

describe('login throttle sources', () => {
  it('throttles an IPv4 address as itself, also when IPv4-mapped', () => {
    assert.equal(throttleSource('203.0.113.7'), '203.0.113.7');
    assert.equal(throttleSource('::ffff:203.0.113.7'), '203.0.113.7');
  });
  it('throttles IPv6 clients per /64, however the address is written', () => {
    assert.equal(throttleSource('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(throttleSource('2001:0DB8:0001:0002::1'), '2001:db8:1:2::/64');
    assert.equal(throttleSource('2001:db8:1:2::ffff'), throttleSource('2001:db8:1:2:0:0:0:1'));
    assert.notEqual(throttleSource('2001:db8:1:3::1'), throttleSource('2001:db8:1:2::1'), 'another /64 is another source');
    assert.equal(throttleSource('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(throttleSource('::1'), '0:0:0:0::/64');
    assert.equal(throttleSource('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });
});

