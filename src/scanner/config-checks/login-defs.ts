import type { ConfigCheck, ConfigCheckInput } from './types.js';

/** /etc/login.defs: `NAME value` lines, # comments (login.defs(5)). */
export function parseLoginDefs(content: Buffer | string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of content.toString('utf8').split('\n')) {
    const m = /^\s*([A-Z0-9_]+)\s+(\S.*?)\s*$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/**
 * One numeric login.defs setting against a bound, as IBM Vulnerability Advisor checks them.
 * Not applicable without /etc/login.defs (distroless, Alpine without shadow); a missing setting
 * takes the shadow suite's built-in default, which is what `useradd` and `passwd` then use.
 */
function setting(
  key: string,
  builtinDefault: number,
  fails: (v: number) => boolean,
  want: string,
): (input: ConfigCheckInput) => string[] {
  return ({ files }) => {
    const file = files.get('/etc/login.defs');
    if (!file) return [];
    const raw = parseLoginDefs(file).get(key);
    const value = raw === undefined ? builtinDefault : Number.parseInt(raw, 10);
    if (raw !== undefined && Number.isNaN(value)) return [`${key} is "${raw}", not a number (want ${want})`];
    if (!fails(value)) return [];
    return [raw === undefined ? `${key} is not set in /etc/login.defs (default ${builtinDefault}; want ${want})` : `${key} is ${value} in /etc/login.defs (want ${want})`];
  };
}

export const passMaxDays: ConfigCheck = {
  id: 'os.login-defs.pass-max-days',
  title: 'Maximum password age is more than 90 days',
  description: 'PASS_MAX_DAYS in /etc/login.defs lets passwords of new accounts live longer than 90 days.',
  remediation: 'Set `PASS_MAX_DAYS 90` in /etc/login.defs (for example `RUN sed -i "s/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\\t90/" /etc/login.defs`).',
  severity: 'LOW',
  run: setting('PASS_MAX_DAYS', 99999, (v) => v > 90 || v < 0, 'at most 90'),
};

export const passMinDays: ConfigCheck = {
  id: 'os.login-defs.pass-min-days',
  title: 'Minimum days between password changes is less than 1',
  description: 'PASS_MIN_DAYS in /etc/login.defs lets a password be changed again at once, so a required change can be undone immediately.',
  remediation: 'Set `PASS_MIN_DAYS 1` in /etc/login.defs.',
  severity: 'LOW',
  run: setting('PASS_MIN_DAYS', 0, (v) => v < 1, 'at least 1'),
};

export const passMinLen: ConfigCheck = {
  id: 'os.login-defs.pass-min-len',
  title: 'Minimum password length is less than 8',
  description: 'PASS_MIN_LEN in /etc/login.defs is missing or allows passwords shorter than 8 characters.',
  remediation: 'Set `PASS_MIN_LEN 8` in /etc/login.defs (and enforce it in PAM with pam_pwquality `minlen=8`).',
  severity: 'LOW',
  run: setting('PASS_MIN_LEN', 5, (v) => v < 8, 'at least 8'),
};
