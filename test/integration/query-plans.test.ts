import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { connectMetadata } from '../../src/metadata/connect.js';
import type { Database } from '../../src/metadata/schema.js';
import { addPullCounts, findManifestByDigest, findManifestByTag, listReferrers } from '../../src/metadata/manifests.js';
import { findLinkedBlob } from '../../src/metadata/blobs.js';
import { staleLinks } from '../../src/metadata/garbage.js';
import { listTagNamesByRepository } from '../../src/metadata/tags.js';
import { listRepositoryNames } from '../../src/metadata/repositories.js';
import { createTestDatabase, engines } from '../support/server.js';

/**
 * The hot read queries against a skewed registry: many one-image repositories and one with thousands
 * of tags. PostgreSQL plans a join from the average repository (about one manifest), so a query
 * that lets it start from "all manifests of the repository" reads every one of them in the big one.
 * Each query must read about as many rows as it returns, whatever the repository's size (rows read
 * are counted from EXPLAIN ANALYZE, so the test checks the plan the server would run).
 */
const SMALL_REPOSITORIES = 20_000;
const BIG_TAGS = 10_000;
const BIG = 'big/app';
/** A one-image repository that also holds 300 referrers (signatures), three per subject. */
const SIGNED = 'small/r1';
const PAGE = 100;

interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows each table gave the plan (returned or filtered away), over all loops, init plans and sub plans. */
function rowsRead(node: PlanNode, into = new Map<string, number>()): Map<string, number> {
  const relation = node['Relation Name'];
  if (relation) {
    const loops = node['Actual Loops'] ?? 1;
    const rows = ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * loops + (node['Rows Removed by Index Recheck'] ?? 0);
    into.set(relation, (into.get(relation) ?? 0) + rows);
  }
  for (const child of node.Plans ?? []) rowsRead(child, into);
  return into;
}

const hex = (text: string) => createHash('sha256').update(text).digest('hex');

if (engines().includes('postgres')) {
  describe('hot read queries on a skewed registry [postgres]', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let db: Kysely<Database>;
    let pool: pg.Pool;
    const captured: CompiledQuery[] = [];

    before(async () => {
      database = await createTestDatabase();
      const metadata = await connectMetadata({ engine: 'postgres', sqlitePath: '', url: database.url, poolSize: 2 });
      await metadata.close();
      pool = new pg.Pool({ connectionString: database.url, max: 2 });
      // The database is dropped WITH (FORCE) at the end: a connection still closing then gets
      // PostgreSQL's "terminating connection", which a pool without a listener throws uncaught.
      pool.on('error', () => {});
      // Seeded in bulk with SQL: small/r<i> (one image, tag latest), big/app (BIG_TAGS images, tags v<i>);
      // every repository links the same two blobs, as a shared base layer is.
      await pool.query(`
        insert into repositories (name, created_at) select 'small/r' || i, 0 from generate_series(1, ${SMALL_REPOSITORIES}) i;
        insert into repositories (name, created_at) values ('${BIG}', 0);
        insert into blobs (digest, size, created_at) values ('sha256:${hex('config')}', 10, 0), ('sha256:${hex('layer')}', 10, 0);
        insert into repository_blobs (repository_id, digest, created_at) select r.id, b.digest, 0 from repositories r cross join blobs b;
        insert into blobs (digest, size, created_at) select 'sha256:' || encode(sha256(convert_to('unlinked' || i, 'UTF8')), 'hex'), 10, 0 from generate_series(1, ${SMALL_REPOSITORIES}) i;
        insert into manifests (repository_id, digest, media_type, size, content, created_at, image_size)
          select r.id, 'sha256:' || encode(sha256(convert_to(r.name, 'UTF8')), 'hex'), 'application/vnd.oci.image.manifest.v1+json', 2, '\\x7b7d', 0, 20
          from repositories r where r.name like 'small/%';
        insert into tags (repository_id, name, manifest_digest, updated_at) select m.repository_id, 'latest', m.digest, 0 from manifests m;
        insert into manifests (repository_id, digest, media_type, size, content, created_at, image_size)
          select r.id, 'sha256:' || encode(sha256(convert_to('big' || i, 'UTF8')), 'hex'), 'application/vnd.oci.image.manifest.v1+json', 2, '\\x7b7d', i, 20
          from repositories r cross join generate_series(1, ${BIG_TAGS}) i where r.name = '${BIG}';
        insert into tags (repository_id, name, manifest_digest, updated_at)
          select r.id, 'v' || i, 'sha256:' || encode(sha256(convert_to('big' || i, 'UTF8')), 'hex'), 0
          from repositories r cross join generate_series(1, ${BIG_TAGS}) i where r.name = '${BIG}';
        -- Every manifest references the config and the layer every repository links.
        insert into manifest_references (manifest_id, repository_id, digest, kind)
          select m.id, m.repository_id, b.digest, 'blob' from manifests m cross join blobs b where b.digest in ('sha256:${hex('config')}', 'sha256:${hex('layer')}');
        analyze;
      `);
      db = new Kysely<Database>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }).on('error', () => {}) }),
        log: (event) => { if (event.level === 'query') captured.push(event.query); },
      });
    });
    after(async () => {
      await db?.destroy();
      await pool?.end();
      await database?.drop();
    });

    /** Runs `query` (through the project's own function) and returns the rows each table gave its plan. */
    async function measure<T>(query: () => Promise<T>): Promise<{ result: T; read: Map<string, number> }> {
      captured.length = 0;
      const result = await query();
      const statements = captured.filter((q) => !/^(begin|commit|rollback)\b/i.test(q.sql));
      assert.equal(statements.length, 1, 'one statement');
      const { sql, parameters } = statements[0]!;
      const explained = await pool.query(`explain (analyze, format json) ${sql}`, parameters as unknown[]);
      const plan = (explained.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]!.Plan;
      // Wharf sends these as named prepared statements (database.prepareStatements), and after five
      // runs PostgreSQL may keep one generic plan for every parameter: that plan must read as little.
      const read = rowsRead(plan);
      for (const [table, rows] of rowsRead(await genericPlan(sql, parameters))) read.set(table, Math.max(read.get(table) ?? 0, rows));
      return { result, read };
    }

    /** The plan PostgreSQL keeps for a prepared statement whatever its parameters, run with these. */
    async function genericPlan(sql: string, parameters: readonly unknown[]): Promise<PlanNode> {
      const client = await pool.connect();
      try {
        await client.query('set plan_cache_mode = force_generic_plan');
        await client.query(`prepare generic_probe as ${sql}`);
        const literals = parameters.map((p) => (typeof p === 'number' ? String(p) : client.escapeLiteral(String(p))));
        const explained = await client.query(`explain (analyze, format json) execute generic_probe${literals.length ? `(${literals.join(', ')})` : ''}`);
        return (explained.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]!.Plan;
      } finally {
        await client.query('deallocate all').catch(() => {});
        await client.query('reset plan_cache_mode').catch(() => {});
        client.release();
      }
    }

    function assertReads(read: Map<string, number>, most: Record<string, number>): void {
      for (const [table, limit] of Object.entries(most)) {
        assert.ok((read.get(table) ?? 0) <= limit, `reads ${read.get(table)} rows of ${table}, at most ${limit} expected (${JSON.stringify([...read])})`);
      }
    }

    it('a manifest by tag reads one tag and one manifest, in the big repository as in a small one', async () => {
      for (const [name, tag, key] of [[BIG, 'v5000', 'big5000'], ['small/r7', 'latest', 'small/r7']] as const) {
        const { result, read } = await measure(() => findManifestByTag(db, name, tag));
        assert.equal(result?.digest, `sha256:${hex(key)}`);
        assertReads(read, { manifests: 1, tags: 1, repositories: 2 });
      }
    });

    it('a manifest by digest reads one manifest', async () => {
      const { result, read } = await measure(() => findManifestByDigest(db, BIG, `sha256:${hex('big1234')}`));
      assert.equal(result?.digest, `sha256:${hex('big1234')}`);
      assertReads(read, { manifests: 1, repositories: 1 });
    });

    it('a tags page reads the page, not the repository', async () => {
      const { result, read } = await measure(() => listTagNamesByRepository(db, BIG, PAGE + 1, 'v5'));
      assert.equal(result.length, PAGE + 1);
      assert.equal(result[0], 'v50');
      assertReads(read, { tags: PAGE + 1, repositories: 1 });
    });

    it('a blob link check reads one link even when every repository links the blob', async () => {
      const { result, read } = await measure(() => findLinkedBlob(db, BIG, `sha256:${hex('layer')}`));
      assert.equal(result?.digest, `sha256:${hex('layer')}`);
      assertReads(read, { repository_blobs: 1, repositories: 1, blobs: 1 });
    });

    it('the garbage collector\'s link sweep reads one reference per link, in the big repository as for a layer every repository shares', async () => {
      // Every link is referenced, so the sweep checks all of them and finds nothing: through manifests
      // this read either every manifest of the big repository or the layer's references in every
      // repository per link (quadratic); with the repository on the reference, one index probe each.
      const links = SMALL_REPOSITORIES * 2 + 2;
      const { result, read } = await measure(() => staleLinks(db, Number.MAX_SAFE_INTEGER, 10));
      assert.deepEqual(result, []);
      assertReads(read, { manifest_references: links * 2, manifests: 0 });
    });

    it('a pull-statistics update reads the one manifest it counts', async () => {
      const digest = `sha256:${hex('big777')}`;
      const { read } = await measure(() => addPullCounts(db, [{ repository: BIG, digest, count: 1, lastPulledAt: 1 }]));
      assertReads(read, { manifests: 1, repositories: 1 });
      const row = await pool.query('select pull_count from manifests where digest = $1', [digest]);
      assert.equal(Number(row.rows[0].pull_count), 3, 'counted by the flush and by the two EXPLAIN ANALYZE (custom and generic plan) that ran it again');
    });

    it('a catalog page reads about one row per repository listed', async () => {
      const { result, read } = await measure(() => listRepositoryNames(db, PAGE + 1, 'small/r5'));
      assert.equal(result.length, PAGE + 1);
      assertReads(read, { repositories: PAGE + 2, manifests: PAGE + 2, repository_blobs: PAGE + 2 });
    });

    // Last: signatures change the manifests' statistics and indexes, and most registries have none.
    // Without them, every index leading with repository_id looked as good as the unique one.
    it('referrers read only the subject\'s referrers', async () => {
      await pool.query(`
        insert into manifests (repository_id, digest, media_type, size, content, subject_digest, created_at, image_size)
          select r.id, 'sha256:' || encode(sha256(convert_to('signature' || i, 'UTF8')), 'hex'), 'application/vnd.oci.image.manifest.v1+json', 2, '\\x7b7d',
            'sha256:' || encode(sha256(convert_to('big' || (i % 100 + 1), 'UTF8')), 'hex'), 0, 20
          from repositories r cross join generate_series(1, 300) i where r.name = '${SIGNED}';
        analyze manifests;
      `);
      const { result, read } = await measure(() => listReferrers(db, SIGNED, `sha256:${hex('big1')}`));
      assert.equal(result.length, 3);
      assertReads(read, { manifests: 3, repositories: 1 });
    });
  });
}

// SQLite plans without statistics (Wharf never runs ANALYZE), so its plans do not depend on the
// data: each hot query must search by an index (never scan a table) and take a page in index order.
describe('hot read queries [sqlite]', () => {
  let dir: string;
  let sqlite: SQLite.Database;
  let db: Kysely<Database>;
  const captured: CompiledQuery[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-plans-'));
    const file = path.join(dir, 'wharf.db');
    const metadata = await connectMetadata({ engine: 'sqlite', sqlitePath: file, url: '', poolSize: 1 });
    await metadata.close();
    sqlite = new SQLite(file);
    db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new SQLite(file) }),
      log: (event) => { if (event.level === 'query') captured.push(event.query); },
    });
  });
  after(async () => {
    await db?.destroy();
    sqlite?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function planOf(query: () => Promise<unknown>): Promise<string[]> {
    captured.length = 0;
    await query();
    assert.equal(captured.length, 1, 'one statement');
    const { sql, parameters } = captured[0]!;
    return (sqlite.prepare(`explain query plan ${sql}`).all(...(parameters as unknown[])) as Array<{ detail: string }>).map((r) => r.detail);
  }

  const digest = `sha256:${hex('x')}`;
  // [what, query, a page (no sort allowed: the page is read in index order)]
  const cases: Array<[string, () => Promise<unknown>, boolean]> = [
    ['manifest by tag', () => findManifestByTag(db, BIG, 'v1'), false],
    ['manifest by digest', () => findManifestByDigest(db, BIG, digest), false],
    ['tags page', () => listTagNamesByRepository(db, BIG, PAGE + 1, 'v5'), true],
    ['blob link check', () => findLinkedBlob(db, BIG, digest), false],
    ['referrers', () => listReferrers(db, BIG, digest), false],
    ['catalog page', () => listRepositoryNames(db, PAGE + 1, 'small/r5'), true],
  ];
  for (const [what, query, paged] of cases) {
    it(`${what}: searches by index and scans no table${paged ? ', in index order' : ''}`, async () => {
      const plan = await planOf(query);
      const bad = plan.filter((step) => /^SCAN (?!CONSTANT)/.test(step) || (paged && step.includes('TEMP B-TREE')));
      assert.deepEqual(bad, [], plan.join('\n'));
    });
  }
});
