import { type Kysely, type Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { id, big } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // A subscription of an account (namespace_id null: every namespace) or of one namespace. The
      // secret is kept as given out: the worker needs it to sign, so it cannot be a one-way hash.
      await db.schema.createTable('webhooks')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('namespace_id', big, (c) => c.references('namespaces.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('repositories', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhooks_account').on('webhooks').columns(['account_id']).execute();

      // One event to one webhook: written in the transaction of the change it tells of, so it exists
      // exactly when the change does. Delivered in id order per (webhook, repository).
      await db.schema.createTable('webhook_deliveries')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('webhook_id', big, (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', big, (c) => c.notNull())
        .addColumn('lease_until', big)
        .addColumn('leased_by', 'text')
        .addColumn('last_error', 'text')
        .addColumn('response_status', 'integer')
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('finished_at', big)
        .execute();
      // The worker's question: the oldest pending delivery of each (webhook, repository).
      await db.schema.createIndex('webhook_deliveries_pending').on('webhook_deliveries')
        .columns(['state', 'webhook_id', 'repository', 'id']).execute();
      await db.schema.createIndex('webhook_deliveries_log').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
    },
  };
}
