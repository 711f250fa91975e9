import { addFromUrl, latestBase } from './history.js';
import { passMaxDays, passMinDays, passMinLen } from './login-defs.js';
import { secretsInEnv } from './secrets.js';
import { sshPortExposed, sshServerInstalled } from './ssh.js';
import type { ConfigCheck, ConfigCheckInput, ConfigIssue } from './types.js';
import { runsAsRoot } from './user.js';
import { worldWritableFiles } from './world-writable.js';

export type { ConfigCheck, ConfigCheckInput, ConfigIssue, CheckSeverity } from './types.js';
export { parseImageConfig, type ImageConfig } from './image-config.js';

/** The catalogue, in report order. IDs are stable: exemptions name them. */
export const configChecks: readonly ConfigCheck[] = Object.freeze([
  runsAsRoot,
  sshServerInstalled,
  sshPortExposed,
  secretsInEnv,
  passMaxDays,
  passMinDays,
  passMinLen,
  worldWritableFiles,
  addFromUrl,
  latestBase,
]);

export function findConfigCheck(id: string): ConfigCheck | undefined {
  return configChecks.find((c) => c.id === id);
}

export function runConfigChecks(input: ConfigCheckInput, checks: readonly ConfigCheck[] = configChecks): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const c of checks) {
    const evidence = c.run(input);
    if (evidence.length === 0) continue;
    out.push({ checkId: c.id, title: c.title, description: c.description, remediation: c.remediation, severity: c.severity, detail: evidence.join('; '), evidence });
  }
  return out;
}
