import { ProblemError } from '../errors/problem.js';
import { API_KEY_USERNAME } from './authenticator.js';

const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;

/** Usernames are unique across the registry; `iamapikey` says "the password is an API key". */
export function checkUsername(username: string): void {
  if (!USERNAME.test(username) || username === API_KEY_USERNAME) {
    throw new ProblemError('bad-request', 'a username is 3 to 64 characters: lowercase letters, digits, ".", "_" and "-", starting with a letter or digit (and not "iamapikey")');
  }
}

export function checkPassword(password: string): void {
  if (password.length < 12) throw new ProblemError('bad-request', 'a password needs at least 12 characters');
  if (password.length > 1024) throw new ProblemError('bad-request', 'a password may have at most 1024 characters');
}
