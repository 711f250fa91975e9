import { Option, type Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, integerArg } from '../command-kit.js';
import { UsageError, writeJson, type CliContext } from '../context.js';
import { table } from '../format.js';

interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  resource: string;
  outcome: string;
  source: string;
  requestId: string | null;
  namespace: string | null;
  count: number;
  detail: unknown;
}

interface AuditPage {
  events: AuditEvent[];
  next?: string;
}

interface AuditOptions {
  since?: string;
  until?: string;
  principal?: string;
  action?: string;
  namespace?: string;
  outcome?: string;
  format: 'table' | 'json' | 'jsonl';
  limit?: number;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30m`, `24h`, `7d` (that long before now) or a date such as 2026-11-30 or 2026-11-30T12:00:00Z, as ISO text. */
export function parseInstant(text: string, now: number, option: string): string {
  const relative = /^(\d{1,6})\s*([smhdw])$/.exec(text.trim());
  if (relative) return new Date(now - Number(relative[1]) * UNIT_MS[relative[2]!]!).toISOString();
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${option} "${text}" is neither a duration (30m, 24h, 7d) nor a date (2026-11-30, 2026-11-30T12:00:00Z)`);
  return new Date(ms).toISOString();
}

/** `wharf audit`: the account's audit trail. */
export function registerAuditCommands(program: Command, ctx: CliContext): void {
  examples(program.command('audit')
    .summary('show who did what: logins, pushes, pulls, deletes, IAM and policy changes')
    .description('the audit trail of your account, newest first (account Managers). Pulls, logins and token grants are batched: one event with a count per principal, image and flush interval. --format jsonl writes every matching event, one JSON object a line, following the pages.')
    .option('--since <when>', 'events at or after: a duration before now (30m, 24h, 7d) or a date')
    .option('--until <when>', 'events before: a duration before now or a date')
    .option('--principal <name>', 'a user or service ID name (or "user alice", "service ci")')
    .option('--action <action>', 'an action (registry.push, login) or a prefix ending in * (registry.*)')
    .option('--namespace <namespace>', 'events about this namespace')
    .addOption(new Option('--outcome <outcome>', 'only this outcome').choices(['success', 'failure', 'deny', 'allow']))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'jsonl']).default('table'))
    .option('--limit <n>', 'at most this many events (default 100; jsonl: all of them)', integerArg('--limit')),
  'wharf audit --since 24h',
  'wharf audit --action registry.push --namespace team-a',
  'wharf audit --principal alice --outcome failure',
  'wharf audit --since 2026-11-01 --format jsonl > audit.jsonl')
    .action(async (opts: AuditOptions) => {
      const client = ApiClient.fromStoredLogin(ctx);
      const now = ctx.now();
      const filter = {
        since: opts.since === undefined ? undefined : parseInstant(opts.since, now, '--since'),
        until: opts.until === undefined ? undefined : parseInstant(opts.until, now, '--until'),
        principal: opts.principal, action: opts.action, namespace: opts.namespace, outcome: opts.outcome,
      };
      const wanted = opts.limit ?? (opts.format === 'jsonl' ? Infinity : 100);
      const events: AuditEvent[] = [];
      let cursor: string | undefined;
      let written = 0;
      do {
        const page = await client.get<AuditPage>('/audit', { ...filter, limit: Math.min(1000, wanted - written), cursor });
        for (const event of page.events) {
          // JSON lines stream page by page: an export of months of events never sits in memory whole.
          if (opts.format === 'jsonl') ctx.stdout.write(`${JSON.stringify(event)}\n`);
          else events.push(event);
          written++;
        }
        cursor = page.next;
      } while (cursor && written < wanted);
      if (opts.format === 'jsonl') return;
      if (opts.format === 'json') return writeJson(ctx.stdout, { events });
      if (events.length === 0) {
        ctx.stdout.write('No audit events match.\n');
        return;
      }
      ctx.stdout.write(table(['Time', 'Principal', 'Action', 'Resource', 'Outcome', 'Source', 'Count'],
        events.map((e) => [e.at.replace(/\.\d+Z$/, 'Z'), e.actor, e.action, e.resource, e.outcome, e.source, String(e.count)])));
    });
}
