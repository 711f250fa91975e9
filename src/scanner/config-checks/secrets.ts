import type { ConfigCheck } from './types.js';

/** Name parts that say a variable holds a secret (names are split on _ - . and compared upper-case). */
const SECRET_WORDS = new Set(['PASSWORD', 'PASSWD', 'PASSPHRASE', 'SECRET', 'TOKEN', 'APIKEY', 'CREDENTIAL', 'CREDENTIALS', 'PRIVATEKEY', 'ACCESSKEY']);
/** Two-part spellings of the same (API_KEY, PRIVATE_KEY, ACCESS_KEY). */
const SECRET_PAIRS = new Set(['API KEY', 'PRIVATE KEY', 'ACCESS KEY']);
/** A last part that says the value points at or describes a secret instead of holding it (POSTGRES_PASSWORD_FILE). */
const NOT_A_VALUE = new Set(['FILE', 'PATH', 'DIR', 'URL', 'URI', 'ENDPOINT', 'HOST', 'PORT', 'NAME', 'LENGTH', 'TTL', 'TIMEOUT', 'ENABLED', 'TYPE', 'ALGORITHM', 'HEADER']);

/** Values that are secrets whatever the variable is called. */
const SECRET_VALUES: Array<[RegExp, string]> = [
  [/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/, 'a private key'],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/\bgh[pousr]_[A-Za-z0-9]{36,255}\b/, 'a GitHub token'],
  [/\bgithub_pat_[A-Za-z0-9_]{22,255}\b/, 'a GitHub token'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
];

export function secretName(name: string): boolean {
  const parts = name.toUpperCase().split(/[_\-.]+/).filter(Boolean);
  if (parts.length === 0 || NOT_A_VALUE.has(parts[parts.length - 1]!)) return false;
  for (let i = 0; i < parts.length; i++) {
    if (SECRET_WORDS.has(parts[i]!)) return true;
    if (i + 1 < parts.length && SECRET_PAIRS.has(`${parts[i]} ${parts[i + 1]}`)) return true;
  }
  return false;
}

export function secretValueKind(value: string): string | undefined {
  for (const [re, what] of SECRET_VALUES) if (re.test(value)) return what;
  return undefined;
}

export const secretsInEnv: ConfigCheck = {
  id: 'image.secret-in-env',
  title: 'Secrets in environment variables',
  description:
    'The image configuration sets environment variables that hold secrets (passwords, tokens, private keys, cloud access keys). Anyone who can pull the image can read them with `docker inspect`, and they end up in logs and crash reports.',
  remediation:
    'Remove the secret from the Dockerfile (ENV and ARG) and rotate it; give it to the container at run time from a secret store (Kubernetes Secret, `podman secret`), mounted as a file.',
  severity: 'HIGH',
  run({ config }) {
    const out: string[] = [];
    for (const { name, value } of config.env) {
      if (value.trim() === '') continue;
      const kind = secretValueKind(value);
      if (kind) out.push(`ENV ${name} holds ${kind}`);
      else if (secretName(name)) out.push(`ENV ${name} is set (the name says it holds a secret)`);
    }
    return out;
  },
};
