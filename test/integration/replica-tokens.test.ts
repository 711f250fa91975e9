import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectMetadata, type MetadataDb } from '../../src/metadata/connect.js';
import { TokenService } from '../../src/iam/token-service.js';
import { listSigningKeys } from '../../src/metadata/tokens.js';
import { createTestDatabase } from '../support/server.js';

/**
 * Token signing keys shared by replicas on one PostgreSQL database: replicas starting together on a
 * new database must not leave it without a current key, or a replica started later makes a new one
 * and drops theirs, and the tokens they go on signing verify nowhere else.
 */

const TOKEN_TTL = 300;
const REPLICAS = 4;

describe('token signing keys of replicas started together [postgres]', () => {
  let database: { url: string; drop(): Promise<void> };
  const connections: MetadataDb[] = [];
  let clock = Date.now();
  const now = () => clock;

  const replica = async (): Promise<TokenService> => {
    const metadata = await connectMetadata({ engine: 'postgres', url: database.url, sqlitePath: '', poolSize: 4 });
    connections.push(metadata);
    return new TokenService(metadata.db, { service: 'wharf', tokenTtl: TOKEN_TTL, refreshTokenTtl: 86400 }, now);
  };

  before(async () => {
    database = await createTestDatabase();
    // Creates the schema once, as the first replica's start does.
    connections.push(await connectMetadata({ engine: 'postgres', url: database.url, sqlitePath: '', poolSize: 2 }));
  });
  after(async () => {
    for (const c of connections) await c.close().catch(() => undefined);
    await database?.drop();
  });

  it('leaves one current key, and a replica started much later verifies the tokens every earlier one signs', async () => {
    const replicas = await Promise.all(Array.from({ length: REPLICAS }, replica));
    await Promise.all(replicas.map((r) => r.init()));
    const keys = await listSigningKeys(connections[0]!.db);
    assert.ok(keys.some((k) => k.retired_at === null), `a current signing key is left: ${JSON.stringify(keys.map((k) => ({ kid: k.kid, retired: k.retired_at })))}`);

    // Long after the tokens of any retired key expired, another replica starts.
    clock += TOKEN_TTL * 1000 * 3;
    const late = await replica();
    await late.init();
    for (const [i, r] of replicas.entries()) {
      const issued = await r.issue('user:1', 1, null, []);
      assert.ok(await late.verify(issued.token), `a token replica ${i} signs verifies on the replica started later`);
      assert.ok(await replicas[(i + 1) % REPLICAS]!.verify(issued.token), `and on replica ${(i + 1) % REPLICAS}`);
    }
  });
});
