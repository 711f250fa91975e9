/** What /api/v1 answers, as far as the console reads it. */

export type Role = 'reader' | 'writer' | 'manager';

export interface Whoami {
  kind: 'user' | 'service';
  id: number;
  name: string;
  account: { id: number; name: string };
  owner: boolean;
  accountRole: Role | null;
  viaApiKey: boolean;
}

export interface Namespace { name: string; publicPull: boolean; created: string; imageCount: number }

export interface ImageRow {
  repository: string; name: string; namespace: string; tag: string | null; digest: string; size: number;
  created: string; securityStatus: string; highestSeverity?: string | null; pullCount: number; lastPulled: string | null;
  /** Signatures the image carries, and the trusted keys that verified one (absent before #13). */
  signatures?: number; verifiedBy?: string[];
}

/** One image of the list: a digest with all its tags in one row. */
export interface Image {
  name: string; namespace: string; repository: string; digest: string; tags: string[]; size: number;
  created: string; lastPulled: string | null; securityStatus: string; highestSeverity: string | null;
  signatures: number; verifiedBy: string[];
}

export interface ImageDetail {
  name: string; digest: string; mediaType: string; created: string | null; size: number; pullCount: number; lastPulled: string | null;
  tags: string[];
  config: { config?: { Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[] | null; User?: string; WorkingDir?: string; Labels?: Record<string, string> | null; ExposedPorts?: Record<string, unknown> } } | null;
  os: string | null; architecture: string | null;
  layers: Array<{ digest: string; mediaType: string; size: number }>;
  history: Array<{ created?: string; created_by?: string; empty_layer?: boolean; comment?: string }>;
  platforms: Array<{ digest: string; mediaType: string; size: number; os?: string; architecture?: string; variant?: string }>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  referrers: Array<{ digest: string; mediaType: string; artifactType: string | null; size: number }>;
}

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'NEGLIGIBLE' | 'UNKNOWN';

export interface Exemption { id: number; reason: string; by: string; expiresAt?: string | null }

export interface Vulnerability {
  advisoryId: string; aliases: string[]; cves: string[]; package: string; installedPackage: string; installedVersion: string;
  fixedVersion: string | null; ecosystem: string; severity: Severity; summary: string; fix: string; locations: string[];
  exempt: boolean; exemption?: Exemption;
}

export interface ConfigurationIssue {
  checkId: string; title: string; description: string; remediation: string; severity: string; detail: string; exempt: boolean; exemption?: Exemption;
}

export interface Report {
  name: string; digest: string; status: string; issueCount: number; exemptCount: number; vulndbDate: string | null; scannedAt: string | null; error: string | null;
  os: { id?: string; versionId?: string; prettyName?: string } | null;
  vulnerabilities: Vulnerability[];
  configurationIssues: ConfigurationIssue[];
}

export interface TrashItem { name: string; digest: string; tags: string[]; size: number; deleted: string; deletedBy: string; expires: string; namespaceState: string }

export interface ApiKey { id: number; prefix: string; owner: string; description: string; created: string; lastUsed?: string | null }

export interface QuotaView {
  storage: { limit: number | null; used: number };
  pullTraffic: { limit: number | null; used: number; month: string };
  publicPullTraffic: { limit: number | null; used: number; month: string };
}

export interface Stats {
  days: Array<{ day: string; pushes: number; pulls: number }>;
  namespaces: Array<{ name: string; storageBytes: number; history: Array<number | null> }>;
  vulnerabilities: Record<Severity, number>;
  scannedImages: number;
}

/** One signature or attestation of an image, verified against the account's trusted keys (GET /images/{ref}/signatures). */
export interface SignatureVerdict {
  format: 'simple-signing' | 'cosign' | 'notation'; kind?: 'signature' | 'attestation'; source?: 'signature-api' | 'tag' | 'referrer';
  manifest?: string; verified: boolean; key: string | null; reason?: string; signer?: string; identity?: string; keyId?: string; predicateType?: string;
}

export interface ImageSignatures { image: string; digest: string; verified: boolean; verifiedBy: string[]; signatures: SignatureVerdict[] }

export type KeyKind = 'gpg' | 'sigstore' | 'x509';

export interface TrustKey { name: string; kind: KeyKind; namespace: string | null; fingerprint: string; identities: string[]; created: string; createdBy: string }

export type PolicyScope = 'cluster' | 'account' | 'namespace' | 'repository';

export interface ImagePolicy {
  registries?: string[]; namespaces?: string[]; signedBy?: string[];
  vulnerabilities?: { maxSeverity?: string; maxScanAgeDays?: number; allowUnsupportedOs?: boolean };
  requireDigest?: boolean;
}

export interface StoredPolicy { scope: PolicyScope; target: string; policy: ImagePolicy; updated: string; updatedBy: string }

/** What POST /policies/images/check answers: the admission webhook's decision for one image. */
export interface PolicyCheck {
  image: string; allowed: boolean; digest?: string; pinned?: string; message: string;
  policy?: { scope: PolicyScope; target: string };
  failures: Array<{ rule: string; message: string }>;
}
