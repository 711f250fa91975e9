/**
 * The glob syntax of immutability rules, matched against whole names (a tag, or a repository path
 * inside its namespace):
 *   `*`      any run of characters except `/` (so `team/*` is one level deep)
 *   `**`     any run of characters, `/` included
 *   `?`      one character except `/`
 *   `{a,b}`  either alternative (no nesting)
 * Every other character stands for itself. Matching is case-sensitive, like tags and names.
 */
const GLOB_GRAMMAR = /^[A-Za-z0-9._\-/*?{},]{1,128}$/;

export class GlobError extends Error {}

/** A RegExp for `glob`, or GlobError saying what is wrong with it. */
export function compileGlob(glob: string): RegExp {
  if (!GLOB_GRAMMAR.test(glob)) {
    throw new GlobError(`"${glob}" is not a valid pattern: use 1 to 128 of letters, digits, . _ - / and the wildcards * ** ? {a,b}`);
  }
  let source = '';
  let inBraces = false;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        source += '.*';
        i++;
      } else {
        source += '[^/]*';
      }
    } else if (c === '?') {
      source += '[^/]';
    } else if (c === '{') {
      if (inBraces) throw new GlobError(`"${glob}" nests braces: alternatives {a,b} cannot contain braces`);
      inBraces = true;
      source += '(?:';
    } else if (c === '}') {
      if (!inBraces) throw new GlobError(`"${glob}" closes a brace it never opened`);
      inBraces = false;
      source += ')';
    } else if (c === ',') {
      source += inBraces ? '|' : ',';
    } else {
      source += c === '.' ? '\\.' : c;
    }
  }
  if (inBraces) throw new GlobError(`"${glob}" opens a brace it never closes`);
  return new RegExp(`^${source}$`);
}

export function globMatches(glob: string, name: string): boolean {
  return compileGlob(glob).test(name);
}
