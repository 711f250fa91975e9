import { Option, type Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, integerArg, type OutputFormat } from '../command-kit.js';
import { CliError, writeJson, writeLine, type CliContext } from '../context.js';
import { relativeTime, table } from '../format.js';

interface Webhook { id: number; url: string; namespace: string | null; format: string; repositories: string; events: string[]; createdBy: string; created: string }
interface Delivery {
  id: number; eventId: string; eventType: string; repository: string; state: string; attempts: number;
  responseStatus: number | null; lastError: string | null; created: string; nextAttempt: string | null; finished: string | null;
}

/** The event types, as the server names them (see "Webhooks" in the README). */
const EVENT_TYPES = ['push', 'tag.moved', 'delete', 'pull', 'scan.completed', 'quota.warning', 'policy.denied'];


/** `wharf webhook add|list|rm|test|deliveries`. */
export function registerWebhookCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('webhook')
    .summary('send registry events (push, delete, scan results, …) to an HTTP receiver')
    .description('webhooks of the account or of one namespace: each event is POSTed, signed with HMAC-SHA256 (X-Wharf-Signature), retried until the receiver answers 2xx; events of one repository arrive in order'),
  'wharf webhook add https://ci.example.com/hooks/wharf --namespace team-a --repositories \'team-a/app*\' --events push,delete',
  'wharf webhook list',
  'wharf webhook deliveries 3');

  examples(group.command('add')
    .description('subscribe a receiver (Manager role on the account, or on the namespace with --namespace); prints the signing secret once')
    .argument('<url>', 'the receiver, http:// or https://')
    .option('-n, --namespace <namespace>', 'only events of this namespace (default: every namespace of the account)')
    .option('-r, --repositories <glob>', 'only repositories whose full name matches, e.g. \'team-a/app*\' or \'team-a/**\'', '**')
    .option('-e, --events <types>', `comma-separated event types: ${EVENT_TYPES.join(', ')} (default: all but pull)`)
    .addOption(new Option('--payload <format>', 'payload format: Distribution\'s notification envelope, or CloudEvents 1.0 JSON').choices(['distribution', 'cloudevents']).default('distribution'))
    .addOption(formatOption()),
  'wharf webhook add https://ci.example.com/hooks/wharf --namespace team-a',
  'wharf webhook add https://events.example.com/in --payload cloudevents --events push,scan.completed')
    .action(async (url: string, opts: { namespace?: string; repositories: string; events?: string; payload: string; format: OutputFormat }) => {
      const created = await ApiClient.fromStoredLogin(ctx).post<Webhook & { secret: string }>('/webhooks', {
        url, repositories: opts.repositories, format: opts.payload,
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        ...(opts.events ? { events: opts.events.split(',').map((e) => e.trim()).filter(Boolean) } : {}),
      });
      if (opts.format === 'json') return writeJson(ctx.stdout, created);
      writeLine(ctx.stdout, `Webhook ${created.id} sends ${created.events.join(', ')} of ${created.namespace ? `namespace ${created.namespace}` : 'every namespace'} (${created.repositories}) to ${created.url}.`);
      writeLine(ctx.stdout, '');
      writeLine(ctx.stdout, `  Signing secret: ${created.secret}`);
      writeLine(ctx.stdout, '');
      writeLine(ctx.stdout, 'It is shown only this once: give it to the receiver, which checks X-Wharf-Signature with it (see "Webhooks" in the README).');
    });

  examples(group.command('list')
    .alias('ls')
    .description('the webhooks you manage')
    .addOption(formatOption()),
  'wharf webhook list')
    .action(async (opts: { format: OutputFormat }) => {
      const { webhooks } = await ApiClient.fromStoredLogin(ctx).get<{ webhooks: Webhook[] }>('/webhooks');
      if (opts.format === 'json') return writeJson(ctx.stdout, webhooks);
      if (webhooks.length === 0) return writeLine(ctx.stdout, 'No webhooks. Add one with wharf webhook add <url>.');
      ctx.stdout.write(table(['ID', 'URL', 'Namespace', 'Repositories', 'Events', 'Payload', 'Created'], webhooks.map((w) => [
        String(w.id), w.url, w.namespace ?? '(all)', w.repositories, w.events.join(','), w.format, relativeTime(w.created, ctx.now()),
      ])));
    });

  examples(group.command('rm')
    .description('remove a webhook; its pending deliveries are dropped')
    .argument('<id>', 'the webhook id (wharf webhook list)', integerArg('the webhook id')),
  'wharf webhook rm 3')
    .action(async (id: number) => {
      await ApiClient.fromStoredLogin(ctx).delete(`/webhooks/${id}`);
      writeLine(ctx.stdout, `Removed webhook ${id}.`);
    });

  examples(group.command('test')
    .description('send a signed webhook.test event now and show how the receiver answered')
    .argument('<id>', 'the webhook id', integerArg('the webhook id'))
    .addOption(formatOption()),
  'wharf webhook test 3')
    .action(async (id: number, opts: { format: OutputFormat }) => {
      const delivery = await ApiClient.fromStoredLogin(ctx).post<Delivery>(`/webhooks/${id}/test`);
      if (opts.format === 'json') writeJson(ctx.stdout, delivery);
      else if (delivery.state === 'delivered') writeLine(ctx.stdout, `The receiver accepted the test event (HTTP ${delivery.responseStatus}).`);
      if (delivery.state !== 'delivered') throw new CliError(`the test event was not delivered: ${delivery.lastError ?? 'no answer'}; check the URL and that the receiver answers 2xx`);
    });

  examples(group.command('deliveries')
    .description('the delivery log of a webhook, newest first: state, attempts, the receiver\'s answer or the error')
    .argument('<id>', 'the webhook id', integerArg('the webhook id'))
    .option('--limit <n>', 'how many', integerArg('--limit'), 50)
    .addOption(new Option('--state <state>', 'only deliveries in this state').choices(['pending', 'delivered', 'failed']))
    .addOption(formatOption()),
  'wharf webhook deliveries 3',
  'wharf webhook deliveries 3 --state failed --format json')
    .action(async (id: number, opts: { limit: number; state?: string; format: OutputFormat }) => {
      const { deliveries } = await ApiClient.fromStoredLogin(ctx).get<{ deliveries: Delivery[] }>(`/webhooks/${id}/deliveries`, { limit: opts.limit, state: opts.state });
      if (opts.format === 'json') return writeJson(ctx.stdout, deliveries);
      if (deliveries.length === 0) return writeLine(ctx.stdout, `No deliveries for webhook ${id} yet.`);
      ctx.stdout.write(table(['ID', 'Event', 'Repository', 'State', 'Attempts', 'Answer', 'Created', 'Last error'], deliveries.map((d) => [
        String(d.id), d.eventType, d.repository, d.state === 'pending' && d.nextAttempt ? `pending (next try ${d.nextAttempt})` : d.state,
        String(d.attempts), d.responseStatus === null ? '-' : String(d.responseStatus), relativeTime(d.created, ctx.now()), d.lastError ?? '',
      ])));
    });
}
