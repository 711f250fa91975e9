import type { DetectedPackage } from '../detectors/types.js';
import type { ImageConfig } from './image-config.js';

/** What a configuration check looks at: the image config and the few facts kept from the layers. */
export interface ConfigCheckInput {
  config: ImageConfig;
  /** Kept files by absolute path (/etc/login.defs, /etc/passwd, …). */
  files: ReadonlyMap<string, Buffer>;
  /** World-writable regular files and non-sticky directories under the system directories. */
  worldWritable: ReadonlyArray<{ path: string; kind: 'file' | 'directory'; mode: number }>;
  /** Marker paths (e.g. /usr/sbin/sshd) that exist in the final filesystem. */
  markers: ReadonlySet<string>;
  packages: readonly DetectedPackage[];
}

export type CheckSeverity = 'HIGH' | 'MEDIUM' | 'LOW';

export interface ConfigCheck {
  /** Stable: reports, exemptions and documentation refer to it. */
  id: string;
  title: string;
  description: string;
  remediation: string;
  severity: CheckSeverity;
  /** What trips the check, one line each (never a secret's value); empty when the image passes. */
  run(input: ConfigCheckInput): string[];
}

/** A failed check as a report shows it. */
export interface ConfigIssue {
  checkId: string;
  title: string;
  description: string;
  remediation: string;
  severity: CheckSeverity;
  /** The evidence, joined for display. */
  detail: string;
  evidence: string[];
}
