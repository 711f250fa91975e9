import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { CliError, writeJson, writeLine, type CliContext } from '../context.js';
import { table } from '../format.js';
import { apiReference, referencePath } from './image-reference.js';

interface TrustKey {
  name: string;
  kind: 'gpg' | 'sigstore' | 'x509';
  namespace: string | null;
  fingerprint: string;
  identities: string[];
  created: string;
}

interface Verdict {
  format: string;
  kind?: string;
  source?: string;
  verified: boolean;
  key: string | null;
  reason?: string;
  signer?: string;
  identity?: string;
}

interface ImageSignatures {
  image: string;
  verified: boolean;
  verifiedBy: string[];
  signatures: Verdict[];
}

/** A sigstore key is a PEM public key, a notation trust anchor a PEM certificate; anything else is taken for an OpenPGP key. */
function guessKind(text: string): 'gpg' | 'sigstore' | 'x509' {
  if (/-----BEGIN CERTIFICATE-----/.test(text)) return 'x509';
  return /-----BEGIN PUBLIC KEY-----/.test(text) ? 'sigstore' : 'gpg';
}

function readKeyFile(file: string, stdin: () => string): string {
  try {
    return file === '-' ? stdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function printKeys(ctx: CliContext, keys: TrustKey[], format: OutputFormat): void {
  if (format === 'json') return writeJson(ctx.stdout, keys);
  if (keys.length === 0) return writeLine(ctx.stdout, 'No trusted keys: add one with wharf trust key add <name> --file <public key>.');
  ctx.stdout.write(table(['Name', 'Kind', 'Scope', 'Fingerprint', 'Identity'],
    keys.map((k) => [k.name, k.kind, k.namespace === null ? 'account' : `namespace ${k.namespace}`, k.fingerprint, k.identities.join(', ')])));
}

/** `wharf trust key add|list|rm` and `wharf trust inspect`. */
export function registerTrustCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('trust')
    .summary('trusted signing keys, and the signatures images carry')
    .description('the public keys your account trusts to sign images (GPG for simple signing, sigstore ECDSA P-256/Ed25519 for cosign), and which signatures of an image verify with them'),
  'wharf trust key add ci --file ci.asc',
  'wharf trust key add cosign --file cosign.pub --namespace team-a',
  'wharf trust inspect team-a/app:1.0');

  const keys = group.command('key').summary('add, list and remove trusted keys').description('trusted public keys of your account (Manager role to change them)');

  examples(keys.command('add')
    .description('trust a public key to sign the images of your account, or of one namespace (Manager role)')
    .argument('<name>', 'the key\'s name, used by image policies (letters, digits, ".", "_", "-")')
    .requiredOption('--file <path>', 'the public key: gpg --armor --export output, cosign.pub, or a notation CA certificate (- reads standard input)')
    .addOption(new Option('--kind <kind>', 'gpg, sigstore or x509 (default: from the file)').choices(['gpg', 'sigstore', 'x509']))
    .option('--namespace <namespace>', 'trust it for this namespace only')
    .addOption(formatOption()),
  'gpg --armor --export ci@example.com > ci.asc && wharf trust key add ci --file ci.asc',
  'wharf trust key add cosign --file cosign.pub --namespace team-a')
    .action(async (name: string, opts: { file: string; kind?: 'gpg' | 'sigstore' | 'x509'; namespace?: string; format: OutputFormat }) => {
      const publicKey = readKeyFile(opts.file, () => readFileSync(0, 'utf8'));
      const added = await ApiClient.fromStoredLogin(ctx).post<TrustKey>('/trust/keys', { name, kind: opts.kind ?? guessKind(publicKey), publicKey, namespace: opts.namespace ?? null });
      if (opts.format === 'json') return writeJson(ctx.stdout, added);
      writeLine(ctx.stdout, `Trusted ${added.kind} key ${added.name} (${added.fingerprint}) for ${added.namespace === null ? 'every namespace of your account' : `namespace ${added.namespace}`}.`);
    });

  examples(keys.command('list')
    .description('list the trusted keys you can see')
    .addOption(formatOption()),
  'wharf trust key list')
    .action(async (opts: { format: OutputFormat }) => {
      printKeys(ctx, (await ApiClient.fromStoredLogin(ctx).get<{ keys: TrustKey[] }>('/trust/keys')).keys, opts.format);
    });

  examples(keys.command('rm')
    .description('stop trusting a key (Manager role): signatures made with it no longer verify')
    .argument('<name>', 'the key\'s name'),
  'wharf trust key rm ci')
    .action(async (name: string) => {
      await ApiClient.fromStoredLogin(ctx).delete(`/trust/keys/${encodeURIComponent(name)}`);
      writeLine(ctx.stdout, `Removed trusted key ${name}.`);
    });

  examples(group.command('inspect')
    .description('list the signatures and attestations an image carries, and which verify with which trusted key')
    .argument('<image>', 'namespace/repository:tag or namespace/repository@sha256:<digest>')
    .addOption(formatOption()),
  'wharf trust inspect team-a/app:1.0',
  'wharf trust inspect team-a/app@sha256:4c3f... --format json')
    .action(async (image: string, opts: { format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const result = await api.get<ImageSignatures>(`${referencePath(apiReference(api, image))}/signatures`);
      if (opts.format === 'json') return writeJson(ctx.stdout, result);
      if (result.signatures.length === 0) return writeLine(ctx.stdout, `${result.image} carries no signatures.`);
      writeLine(ctx.stdout, result.verified
        ? `${result.image}: verified by ${result.verifiedBy.join(', ')}`
        : `${result.image}: no signature verifies with a trusted key`);
      ctx.stdout.write(table(['Format', 'Kind', 'Stored as', 'Verified', 'Key', 'Signer', 'Reason'],
        result.signatures.map((s) => [s.format, s.kind ?? 'signature', s.source ?? '', s.verified ? 'yes' : 'no', s.key ?? '-', s.signer ?? '-', s.reason ?? ''])));
    });
}
