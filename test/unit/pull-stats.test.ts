import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kysely, KyselyPlugin } from 'kysely';
import { pino } from 'pino';
import { connectMetadata, type MetadataDb } from '../../src/metadata/connect.js';
import type { Database } from '../../src/metadata/schema.js';
import { PullStats } from '../../src/ops/pull-stats.js';

const IMAGES = 1000;
const digestOf = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;

/** Counts the UPDATEs a Kysely instance runs and how many are under way at once; can hold their results back. */
class StatementProbe implements KyselyPlugin {
  statements = 0;
  inFlight = 0;
  maxInFlight = 0;
  hold: Promise<void> | undefined;
  onStatement: (() => void) | undefined;
  transformQuery(args: Parameters<KyselyPlugin['transformQuery']>[0]) {
    // Subqueries pass through here too; the flush executes only UPDATEs.
    if (args.node.kind !== 'UpdateQueryNode') return args.node;
    this.statements++;
    this.onStatement?.();
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return args.node;
  }
  async transformResult(args: Parameters<KyselyPlugin['transformResult']>[0]) {
    await this.hold;
    this.inFlight--;
    return args.result;
  }
}

// On the real embedded engine (SQLite in a temporary directory): the pull-statistics flush.
describe('pull statistics flush', () => {
  let dir: string;
  let metadata: MetadataDb;
  const silent = pino({ level: 'silent' });

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-pull-stats-'));
    metadata = await connectMetadata({ engine: 'sqlite', sqlitePath: path.join(dir, 'wharf.db'), url: '', poolSize: 1 });
    await metadata.db.transaction().execute(async (trx) => {
      await trx.insertInto('repositories').values(Array.from({ length: IMAGES }, (_, i) => ({ name: `team/app${i}`, created_at: 0 }))).execute();
      const repos = await trx.selectFrom('repositories').select(['id', 'name']).execute();
      await trx.insertInto('manifests').values(repos.map((r) => ({
        repository_id: r.id, digest: digestOf(Number(r.name.slice('team/app'.length))), media_type: 'application/vnd.oci.image.manifest.v1+json',
        artifact_type: null, size: 2, content: Buffer.from('{}'), subject_digest: null, annotations: null, created_at: 0, image_size: 0, last_pulled_at: null,
      }))).execute();
    });
  });
  after(async () => {
    await metadata?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function counts(db: Kysely<Database>): Promise<Map<string, number>> {
    const rows = await db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id').select(['r.name', 'm.pull_count']).execute();
    return new Map(rows.map((r) => [r.name, Number(r.pull_count)]));
  }

  it('writes every count, in batches, and lets requests run between batches', async () => {
    const before = await counts(metadata.db);
    const probe = new StatementProbe();
    const stats = new PullStats(metadata.db.withPlugin(probe), silent, () => 1_000, 60_000, 100);
    for (let i = 0; i < IMAGES; i++) {
      for (let n = 0; n <= i % 3; n++) stats.record(`team/app${i}`, digestOf(i));
    }
    // A request's work, queued as the event loop's next turn: it must not wait for the whole flush.
    let turn = 0;
    let flushing = true;
    const tick = (): void => { turn++; if (flushing) setImmediate(tick); };
    setImmediate(tick);
    const statementsPerTurn = new Map<number, number>();
    probe.onStatement = () => statementsPerTurn.set(turn, (statementsPerTurn.get(turn) ?? 0) + 1);
    await stats.flush();
    flushing = false;
    assert.equal(probe.statements, IMAGES, 'one UPDATE per image');
    assert.ok(Math.max(...statementsPerTurn.values()) <= 100, `at most a batch of 100 statements without letting requests run (${JSON.stringify([...statementsPerTurn.values()])})`);
    assert.ok(statementsPerTurn.size >= IMAGES / 100, `the flush spread over ${statementsPerTurn.size} turns of the event loop`);
    const after = await counts(metadata.db);
    for (let i = 0; i < IMAGES; i++) assert.equal(after.get(`team/app${i}`)! - before.get(`team/app${i}`)!, (i % 3) + 1, `team/app${i}`);
    await stats.stop();
  });

  it('never starts a flush while the previous one runs, and stop() writes what is left', async () => {
    const before = await counts(metadata.db);
    const probe = new StatementProbe();
    let release!: () => void;
    probe.hold = new Promise<void>((resolve) => { release = resolve; });
    const stats = new PullStats(metadata.db.withPlugin(probe), silent, () => 2_000, 5, 100);
    stats.start();
    stats.record('team/app1', digestOf(1));
    // The first flush is held mid-statement; pulls keep arriving for many intervals meanwhile.
    while (probe.statements === 0) await new Promise((r) => setTimeout(r, 5));
    for (let i = 2; i < 60; i++) {
      stats.record(`team/app${i}`, digestOf(i));
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(probe.maxInFlight, 1, 'one flush statement at a time');
    assert.equal(probe.statements, 1, 'no flush started beside the held one');
    release();
    await stats.stop();
    assert.equal(probe.maxInFlight, 1);
    const after = await counts(metadata.db);
    for (let i = 1; i < 60; i++) assert.equal(after.get(`team/app${i}`)! - before.get(`team/app${i}`)!, 1, `team/app${i}`);
  });
});
