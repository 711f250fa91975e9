import type { Command } from 'commander';
import { registerAccountCommands } from './commands/account.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerFsckCommands } from './commands/fsck.js';
import { registerGcCommands } from './commands/gc.js';
import { registerIamCommands } from './commands/iam.js';
import { registerImageCommands } from './commands/image.js';
import { registerImmutabilityCommands } from './commands/immutability.js';
import { registerWebhookCommands } from './commands/webhook.js';
import { registerLoginCommands } from './commands/login.js';
import { registerNamespaceCommands } from './commands/namespace.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerQuotaCommands } from './commands/quota.js';
import { registerRetentionCommands } from './commands/retention.js';
import { registerTrashCommands } from './commands/trash.js';
import { registerScannerCommands } from './commands/scanner.js';
import { registerTrustCommands } from './commands/trust.js';
import { registerVulnDbCommands } from './commands/vulndb.js';
import type { CliContext } from './context.js';
import { ibmcloudNames } from './ibmcloud-names.js';

/** `text` broken at spaces into lines of at most `width` characters, each indented. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent}${l}`).join('\n');
}
/** The client commands: each a few calls of the management API. */
export function registerClientCommands(program: Command, ctx: CliContext): void {
  registerLoginCommands(program, ctx);
  registerNamespaceCommands(program, ctx);
  registerImageCommands(program, ctx);
  registerTrashCommands(program, ctx);
  registerQuotaCommands(program, ctx);
  registerRetentionCommands(program, ctx);
  registerImmutabilityCommands(program, ctx);
  registerPolicyCommands(program, ctx);
  registerTrustCommands(program, ctx);
  registerWebhookCommands(program, ctx);
  registerIamCommands(program, ctx);
  registerAccountCommands(program, ctx);
  registerAuditCommands(program, ctx);
  registerScannerCommands(program, ctx);
  registerVulnDbCommands(program, ctx);
  registerGcCommands(program, ctx);
  registerFsckCommands(program, ctx);
  registerBackupCommands(program, ctx);
  program.addHelpText('after', `\nThe command names of ibmcloud cr work too:\n${wrap([...ibmcloudNames, 'images', 'quota'].join(', '), 78, '  ')}\n`);
}
