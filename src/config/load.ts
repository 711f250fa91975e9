import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, configSections, type WharfConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `dataDir` -> `DATA_DIR`, so `storage.dataDir` is WHARF_STORAGE_DATA_DIR. */
function envSuffix(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Environment variable name for each settable key, derived from the schema so the two never drift. */
export function environmentVariables(): Array<{ name: string; path: [string, string] }> {
  const out: Array<{ name: string; path: [string, string] }> = [];
  for (const [section, sectionSchema] of Object.entries(configSections)) {
    for (const key of Object.keys(sectionSchema.shape)) {
      out.push({ name: `WHARF_${envSuffix(section)}_${envSuffix(key)}`, path: [section, key] });
    }
  }
  return out;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`configuration file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`configuration file ${file} must hold a mapping of sections`);
  return parsed as Record<string, unknown>;
}

/**
 * Builds the one configuration object: defaults, then the YAML file, then WHARF_* variables.
 * Any wrong setting stops here with a message naming it.
 */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, Record<string, unknown>> } = {}): WharfConfig {
  const env = options.env ?? process.env;
  const raw: Record<string, Record<string, unknown>> = {};
  if (options.file) {
    for (const [section, value] of Object.entries(readConfigFile(options.file))) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) raw[section] = { ...(value as Record<string, unknown>) };
      else raw[section] = value as Record<string, unknown>;
    }
  }
  const known = environmentVariables();
  for (const { name, path: [section, key] } of known) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    raw[section] = { ...(raw[section] ?? {}), [key]: value };
  }
  // The issue-facing name of the bootstrap password, kept beside the derived WHARF_AUTH_ADMIN_PASSWORD.
  if (env.WHARF_ADMIN_PASSWORD && !env.WHARF_AUTH_ADMIN_PASSWORD) raw.auth = { ...(raw.auth ?? {}), adminPassword: env.WHARF_ADMIN_PASSWORD };
  const unknownVars = Object.keys(env).filter((name) => name.startsWith('WHARF_') && !known.some((k) => k.name === name) && !isOtherWharfVariable(name));
  if (unknownVars.length > 0) {
    throw new ConfigError(`unknown configuration variable${unknownVars.length > 1 ? 's' : ''} ${unknownVars.join(', ')}: fix the name or unset it; known variables: ${[...known.map((k) => k.name), ...ALLOWED_OTHER_VARS].join(', ')}`);
  }
  for (const [section, values] of Object.entries(options.overrides ?? {})) {
    raw[section] = { ...(raw[section] ?? {}), ...values };
  }
  // Parsed once per process: zod's generated (eval) fast path costs more to build than it saves.
  const result = configSchema.safeParse(raw, { jitless: true });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const where = issue.path.join('.') || '(root)';
      const envName = issue.path.length === 2 ? known.find((k) => k.path[0] === issue.path[0] && k.path[1] === issue.path[1])?.name : undefined;
      return `  ${where}${envName ? ` (${envName})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration${options.file ? ` (file ${options.file})` : ''}:\n${problems.join('\n')}`);
  }
  const config = result.data;
  config.storage.dataDir = path.resolve(config.storage.dataDir);
  if (!config.database.sqlitePath) config.database.sqlitePath = path.join(config.storage.dataDir, 'wharf.db');
  else config.database.sqlitePath = path.resolve(config.database.sqlitePath);
  return config;
}

/**
 * WHARF_* variables that are not configuration keys but belong to Wharf, so one shell can set them
 * all: the config file's path, the bootstrap password's alias, the CLI's login file, and the test
 * harness's WHARF_TEST_* (test/run.mjs exports them to every process it starts).
 */
const ALLOWED_OTHER_VARS = new Set<string>(['WHARF_CONFIG', 'WHARF_ADMIN_PASSWORD', 'WHARF_CLI_CONFIG']);
const ALLOWED_OTHER_PREFIX = 'WHARF_TEST_';

function isOtherWharfVariable(name: string): boolean {
  return ALLOWED_OTHER_VARS.has(name) || name.startsWith(ALLOWED_OTHER_PREFIX);
}
