import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { WharfConfig } from '../config/schema.js';
import type { Database } from '../metadata/schema.js';
import { AuditLog } from './audit-log.js';
import { Authenticator } from './authenticator.js';
import { Authorizer } from './authorizer.js';
import { IamService } from './iam-service.js';
import { LoginThrottle } from './login-throttle.js';
import { TokenService } from './token-service.js';

/** The IAM module: who you are (authenticator, tokens), what you may do (authorizer), and its administration. */
export class Iam {
  readonly audit: AuditLog;
  readonly tokens: TokenService;
  readonly authorizer: Authorizer;
  readonly authenticator: Authenticator;
  readonly service: IamService;
  readonly enabled: boolean;

  constructor(readonly db: Kysely<Database>, config: WharfConfig['auth'], log: Logger, now: () => number, trashRetentionSeconds = 30 * 86400) {
    this.enabled = config.enabled;
    this.audit = new AuditLog(db, log, now);
    this.tokens = new TokenService(db, { service: config.service, tokenTtl: config.tokenTtl, refreshTokenTtl: config.refreshTokenTtl }, now);
    this.authorizer = new Authorizer(db, { autoCreateNamespaces: config.autoCreateNamespaces });
    this.authenticator = new Authenticator(db, this.tokens, new LoginThrottle(db, {
      freeFailures: config.maxFailedLogins, forgetAfterMs: config.loginWindow * 1000, backoffMs: config.loginBackoff * 1000, maxBackoffMs: config.loginMaxBackoff * 1000,
    }, now), this.audit, now);
    this.service = new IamService(db, this.authorizer, this.authenticator, this.audit, now, { defaultAccount: config.defaultAccount, trashRetentionMs: trashRetentionSeconds * 1000 });
  }

  async init(): Promise<void> {
    await this.tokens.init();
  }
}
