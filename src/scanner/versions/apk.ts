/**
 * Alpine package version comparison, ported from apk-tools src/version.c (the tokenizer rewrite
 * that added `~hash` commit components). Alpine versions follow
 * `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}`; pre-release suffixes (_alpha, _beta,
 * _pre, _rc) sort before the bare version, post-release ones (_cvs, _svn, _git, _hg, _p) after.
 */

const enum Token {
  InitialDigit,
  Digit,
  Letter,
  Suffix,
  SuffixNo,
  CommitHash,
  RevisionNo,
  End,
  Invalid,
}

// Order matters: it is the sort order of suffixes, with NONE between pre- and post-release.
const SUFFIXES = ['', 'alpha', 'beta', 'pre', 'rc', '', 'cvs', 'svn', 'git', 'hg', 'p'] as const;
const SUFFIX_INVALID = 0;
const SUFFIX_NONE = 5;

interface TokenState {
  token: Token;
  suffix: number;
  number: bigint;
  value: string;
}

function suffixValue(s: string): number {
  if (s.length === 0) return SUFFIX_INVALID;
  const i = SUFFIXES.indexOf(s as (typeof SUFFIXES)[number], 1);
  return i > 0 && i !== SUFFIX_NONE ? i : SUFFIX_INVALID;
}

class Cursor {
  pos = 0;
  constructor(readonly s: string) {}
  get rest(): number {
    return this.s.length - this.pos;
  }
  span(re: RegExp): string {
    const start = this.pos;
    while (this.pos < this.s.length && re.test(this.s[this.pos]!)) this.pos++;
    return this.s.slice(start, this.pos);
  }
}

function parseDigits(t: TokenState, c: Cursor): void {
  const digits = c.span(/[0-9]/);
  t.value = digits;
  t.number = digits === '' ? 0n : BigInt(digits);
  if (digits === '') t.token = Token.Invalid;
}

function first(c: Cursor): TokenState {
  const t: TokenState = { token: Token.InitialDigit, suffix: 0, number: 0n, value: '' };
  parseDigits(t, c);
  return t;
}

function next(t: TokenState, c: Cursor): void {
  if (c.rest === 0) {
    t.token = Token.End;
    return;
  }
  const ch = c.s[c.pos]!;
  if (ch >= 'a' && ch <= 'z') {
    if (t.token > Token.Digit) return void (t.token = Token.Invalid);
    t.value = ch;
    t.token = Token.Letter;
    c.pos++;
  } else if (ch === '.' || (ch >= '0' && ch <= '9')) {
    if (ch === '.') {
      if (t.token > Token.Digit) return void (t.token = Token.Invalid);
      c.pos++;
    }
    if (t.token === Token.InitialDigit || t.token === Token.Digit) t.token = Token.Digit;
    else if (t.token === Token.Suffix) t.token = Token.SuffixNo;
    else return void (t.token = Token.Invalid);
    parseDigits(t, c);
  } else if (ch === '_') {
    if (t.token > Token.SuffixNo) return void (t.token = Token.Invalid);
    c.pos++;
    t.value = c.span(/[a-z]/);
    t.suffix = suffixValue(t.value);
    t.token = t.suffix === SUFFIX_INVALID ? Token.Invalid : Token.Suffix;
  } else if (ch === '~') {
    if (t.token >= Token.CommitHash) return void (t.token = Token.Invalid);
    c.pos++;
    t.value = c.span(/[0-9a-f]/);
    t.token = t.value === '' ? Token.Invalid : Token.CommitHash;
  } else if (ch === '-') {
    if (t.token >= Token.RevisionNo || c.s[c.pos + 1] !== 'r') return void (t.token = Token.Invalid);
    c.pos += 2;
    t.token = Token.RevisionNo;
    parseDigits(t, c);
  } else {
    t.token = Token.Invalid;
  }
}

function byteSort(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tokenCompare(a: TokenState, b: TokenState): number {
  switch (a.token) {
    case Token.Digit:
      // A leading zero makes the component a string (Gentoo rule): 1.02 < 1.1 is decided as text.
      if (a.value.startsWith('0') || b.value.startsWith('0')) return byteSort(a.value, b.value);
      return a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
    case Token.InitialDigit:
    case Token.SuffixNo:
    case Token.RevisionNo:
      return a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
    case Token.Letter:
      return byteSort(a.value, b.value);
    case Token.Suffix:
      return Math.sign(a.suffix - b.suffix);
    default:
      return byteSort(a.value, b.value);
  }
}

/** True if apk would accept the version string. */
export function isValidApkVersion(v: string): boolean {
  const c = new Cursor(v);
  const t = first(c);
  while (t.token < Token.End) next(t, c);
  return t.token === Token.End;
}

/** Compares two Alpine versions; -1, 0 or 1. Invalid tails sort low, as apk does. */
export function compareApk(a: string, b: string): number {
  const ca = new Cursor(a);
  const cb = new Cursor(b);
  const ta = first(ca);
  const tb = first(cb);
  while (ta.token === tb.token && ta.token < Token.End) {
    const r = tokenCompare(ta, tb);
    if (r !== 0) return r;
    next(ta, ca);
    next(tb, cb);
  }
  if (ta.token === tb.token) return 0;
  // Equal so far: the longer one is newer, unless what follows is a pre-release suffix.
  if (ta.token === Token.Suffix && ta.suffix < SUFFIX_NONE) return -1;
  if (tb.token === Token.Suffix && tb.suffix < SUFFIX_NONE) return 1;
  if (ta.token > tb.token) return -1;
  if (tb.token > ta.token) return 1;
  return 0;
}
