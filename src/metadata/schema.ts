import type { Generated } from 'kysely';

/**
 * The metadata database, the source of truth for everything but blob bytes.
 * Times are epoch milliseconds; sizes are bytes.
 */
export interface Database {
  repositories: RepositoryTable;
  blobs: BlobTable;
  repository_blobs: RepositoryBlobTable;
  manifests: ManifestTable;
  manifest_references: ManifestReferenceTable;
  tags: TagTable;
  uploads: UploadTable;
  accounts: AccountTable;
  namespaces: NamespaceTable;
  users: UserTable;
  service_ids: ServiceIdTable;
  api_keys: ApiKeyTable;
  access_groups: AccessGroupTable;
  group_members: GroupMemberTable;
  policies: PolicyTable;
  signing_keys: SigningKeyTable;
  refresh_tokens: RefreshTokenTable;
  audit_events: AuditEventTable;
  trash: TrashTable;
  account_quotas: AccountQuotaTable;
  account_pull_usage: AccountPullUsageTable;
  namespace_retention: NamespaceRetentionTable;
  immutable_tag_rules: ImmutableTagRuleTable;
  image_policies: ImagePolicyTable;
  jobs: JobTable;
  advisories: AdvisoryTable;
  advisory_packages: AdvisoryPackageTable;
  advisory_ids: AdvisoryIdTable;
  vulndb_imports: VulndbImportTable;
  scan_results: ScanResultTable;
  scan_reports: ScanReportTable;
  vulndb_sources: VulndbSourceTable;
  scan_packages: ScanPackageTable;
  exemptions: ExemptionTable;
  login_throttle: LoginThrottleTable;
  trash_references: TrashReferenceTable;
  leases: LeaseTable;
  gc_runs: GcRunTable;
  image_signatures: ImageSignatureTable;
  trash_signatures: TrashSignatureTable;
  trust_keys: TrustKeyTable;
  daily_usage: DailyUsageTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
}

export interface RepositoryTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

/** A blob whose verified bytes are in the blob store. */
export interface BlobTable {
  digest: string;
  size: number;
  created_at: number;
}

/** A blob is visible in a repository only through a link (no cross-repository existence oracle). */
export interface RepositoryBlobTable {
  repository_id: number;
  digest: string;
  created_at: number;
}

export interface ManifestTable {
  id: Generated<number>;
  repository_id: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: number;
  /** The exact bytes pushed. */
  content: Buffer;
  subject_digest: string | null;
  /** JSON of the manifest's annotations, served in referrers descriptors. */
  annotations: string | null;
  created_at: number;
  /** Bytes of the image: config and layers, or for an index the sum of its platforms' images. */
  image_size: Generated<number>;
  pull_count: Generated<number>;
  last_pulled_at: number | null;
}

/** What a manifest points at: blobs (config, layers) and child manifests (index entries). */
export interface ManifestReferenceTable {
  manifest_id: number;
  /** The manifest's repository, so "does this repository reference the digest" is one index probe (GC). */
  repository_id: number;
  digest: string;
  kind: 'blob' | 'manifest';
}

export interface TagTable {
  repository_id: number;
  name: string;
  manifest_digest: string;
  updated_at: number;
}

export interface UploadTable {
  id: string;
  repository_id: number;
  /** Bytes received so far; the staged file may hold more after a cut-short write, never fewer. */
  size: number;
  created_at: number;
  updated_at: number;
}

/** A tenant. Everything below belongs to exactly one account. */
export interface AccountTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

/** First path component of repository names; unique across the whole registry. */
export interface NamespaceTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  /** 1 when anonymous clients may pull and list this namespace. */
  public_pull: number;
  created_at: number;
}

export type PrincipalKind = 'user' | 'service';

export interface UserTable {
  id: Generated<number>;
  account_id: number;
  username: string;
  /** argon2id PHC string. */
  password_hash: string;
  /** 1 for the account owner, who is a Manager of the account. */
  owner: number;
  created_at: number;
}

/** A non-human principal (CI pipelines); authenticates only with API keys. */
export interface ServiceIdTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  description: string;
  created_at: number;
}

export interface ApiKeyTable {
  id: Generated<number>;
  account_id: number;
  principal_kind: PrincipalKind;
  principal_id: number;
  /** Public part of the key, shown in listings and used to find the row. */
  prefix: string;
  /** SHA-256 of the whole key: keys are 256-bit random, so a fast hash cannot be brute-forced. */
  secret_hash: string;
  description: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AccessGroupTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  created_at: number;
}

export interface GroupMemberTable {
  group_id: number;
  principal_kind: PrincipalKind;
  principal_id: number;
}

export type Role = 'reader' | 'writer' | 'manager';
export type SubjectKind = PrincipalKind | 'group';

/** Grants `role` to a subject on the account (namespace null), a namespace, or repositories in it. */
export interface PolicyTable {
  id: Generated<number>;
  account_id: number;
  subject_kind: SubjectKind;
  subject_id: number;
  role: Role;
  namespace: string | null;
  /** Repository path inside the namespace; a trailing "*" makes it a prefix. Null: the whole namespace. */
  repository: string | null;
  created_at: number;
}

export interface SigningKeyTable {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  /** Retired keys still verify tokens until they expire, but sign nothing. */
  retired_at: number | null;
}

export interface RefreshTokenTable {
  id: string;
  secret_hash: string;
  principal_kind: PrincipalKind;
  principal_id: number;
  account_id: number;
  api_key_id: number | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface AuditEventTable {
  id: Generated<number>;
  /** The account the event concerns; null when no account can be named (unknown user). */
  account_id: number | null;
  at: number;
  actor: string;
  action: string;
  resource: string;
  outcome: 'allow' | 'deny' | 'success' | 'failure';
  source: string;
  detail: string | null;
  /** The request ID (X-Request-Id or generated) the event was recorded in. */
  request_id: string | null;
  /** The namespace of the resource, when it has one. */
  namespace: string | null;
  /** How many identical events this row stands for (pulls and logins are recorded in batches). */
  count: Generated<number>;
}

/** A deleted image, restorable until it expires. The manifest bytes and its tags are kept here. */
export interface TrashTable {
  id: Generated<number>;
  /** The account that owned the namespace when the image was deleted; only it may see or restore the image. */
  account_id: number | null;
  repository_name: string;
  digest: string;
  media_type: string;
  content: Buffer;
  /** JSON array of the tags the image had. */
  tags: string;
  image_size: number;
  created_at: number;
  deleted_at: number;
  deleted_by: string;
  expires_at: number;
  /** Digest of the image this signature or attestation was trashed with (listed, restored and removed with it). */
  attached_to: string | null;
}

export interface AccountQuotaTable {
  account_id: number;
  storage_bytes: number | null;
  pull_bytes_per_month: number | null;
  /** Monthly limit of bytes pulled by clients outside the account (anonymous or another tenant's). */
  public_pull_bytes_per_month: number | null;
}

/** A namespace's pulls and storage on one UTC day (YYYY-MM-DD), for the console's pictures. */
export interface DailyUsageTable {
  account_id: number;
  namespace: string;
  day: string;
  pulls: Generated<number>;
  /** Bytes of its distinct blobs at the day's latest snapshot; null before the first. */
  storage_bytes: number | null;
}

export interface AccountPullUsageTable {
  account_id: number;
  /** Calendar month, YYYY-MM (UTC). */
  month: string;
  /** Bytes pulled by the account's own principals: what its pull quota counts. */
  bytes: number;
  /** Bytes pulled from its public namespaces by anyone else; never counted against its own quota. */
  public_bytes: Generated<number>;
}

export interface NamespaceRetentionTable {
  namespace_id: number;
  keep_images: number | null;
  remove_untagged: number;
  last_run_at: number | null;
}

/** An image policy of deployment enforcement (not an IAM policy): where it applies and its rules as JSON. */
export interface ImagePolicyTable {
  /** `cluster`, `account:<id>`, `namespace:<id>:<name>` or `repository:<id>:<name>`. */
  scope_key: string;
  scope: 'cluster' | 'account' | 'namespace' | 'repository';
  /** null for the cluster-wide default. */
  account_id: number | null;
  /** The namespace or repository name; '' for the cluster and the account. */
  target: string;
  /** The rules (src/enforcement/policy.ts ImagePolicy) as JSON. */
  policy: string;
  updated_at: number;
  updated_by: string;
}

/** One immutability rule of a namespace: tags matching `tags` in repositories matching `repository` never move. */
export interface ImmutableTagRuleTable {
  namespace_id: number;
  position: number;
  /** Glob over the repository path inside the namespace (`app`, `team/*`, `**`). */
  repository: string;
  /** Glob over tag names (`v*`, `release-*`, `latest`). */
  tags: string;
}

export type JobState = 'pending' | 'failed';

/** Durable background work. A job is leased while it runs; an expired lease makes it runnable again. */
export interface JobTable {
  id: Generated<number>;
  kind: string;
  /** At most one pending job per key (e.g. one scan per digest). */
  dedupe_key: string | null;
  payload: string;
  state: JobState;
  attempts: number;
  run_after: number;
  lease_until: number | null;
  leased_by: string | null;
  last_error: string | null;
  created_at: number;
}

/** An OSV record as imported. */
export interface AdvisoryTable {
  id: string;
  modified: string;
  record: string;
}

/** Which (ecosystem, package) an advisory concerns: the index scans look advisories up by. */
export interface AdvisoryPackageTable {
  advisory_id: string;
  ecosystem: string;
  name: string;
}

/** Every ID an advisory goes by (its own, aliases, upstream): how records of one vulnerability find each other. */
export interface AdvisoryIdTable {
  alias_id: string;
  advisory_id: string;
}

export interface VulndbImportTable {
  id: Generated<number>;
  imported_at: number;
  source: string;
  records: number;
  changed: number;
  /** Newest `modified` among all advisories after the import: the date of the data. */
  data_date: string | null;
}

/** `artifact`: not a container image (a signature, an SBOM, a Helm chart…), so never scanned. */
export type ScanState = 'scanning' | 'done' | 'unsupported' | 'failed' | 'artifact';

/** The scan of one image manifest, by digest (content-addressed, so shared by every repository holding it). */
export interface ScanResultTable {
  digest: string;
  state: ScanState;
  error: string | null;
  scanned_at: number | null;
  vulndb_import_id: number | null;
  /** 1 when scan_packages holds the names this scan looked up (scans before the feed have none). */
  packages_indexed?: number;
}

/** The report (JSON ScanReport) of a scan that produced one, apart from its small row in scan_results. */
export interface ScanReportTable {
  digest: string;
  report: string;
}

/** An (ecosystem, package) a scan of the image looked advisories up by (names as advisory_packages has them). */
export interface ScanPackageTable {
  digest: string;
  ecosystem: string;
  name: string;
}

/** One OSV export the feed downloads (`<feedBase>/<name>/all.zip`) and what its last sync did. */
export interface VulndbSourceTable {
  /** The export's folder: an ecosystem without its release ("Debian", "npm", "Red Hat"). */
  name: string;
  url: string;
  /** Validators of the export last imported, sent back as If-None-Match / If-Modified-Since. */
  etag: string | null;
  last_modified: string | null;
  last_attempt_at: number | null;
  /** Last time the export was read or confirmed unchanged. */
  last_success_at: number | null;
  last_changed_at: number | null;
  /** Records in the export last imported, and how many of them changed the data. */
  records: Generated<number>;
  changed: Generated<number>;
  last_error: string | null;
  last_error_at: number | null;
}

export type ExemptionScope = 'account' | 'namespace' | 'repository' | 'image';

export interface ExemptionTable {
  id: Generated<number>;
  account_id: number;
  /** An advisory ID (or alias such as a CVE) or a configuration check ID. */
  issue_id: string;
  scope: ExemptionScope;
  namespace: string | null;
  repository: string | null;
  digest: string | null;
  reason: string;
  created_by: string;
  created_at: number;
  /** When the exemption stops exempting (ms); null: until removed. Expired ones stay listed, as expired. */
  expires_at: number | null;
}

/** Failed logins of one subject (a user name or an API key prefix) from one source address. */
export interface LoginThrottleTable {
  subject: string;
  source: string;
  failures: number;
  /** Until when this source may not try this subject again (epoch ms; 0 when not blocked). */
  blocked_until: number;
  last_failure_at: number;
}

/** A named lease: one replica at a time does the work it guards, until the lease expires. */
export interface LeaseTable {
  name: string;
  holder: string;
  expires_at: number;
}

/** One garbage collection: when, how it was started, and what it freed. */
export interface GcRunTable {
  id: Generated<number>;
  /** `schedule` or the principal that asked for it. */
  trigger: string;
  dry_run: number;
  started_at: number;
  finished_at: number | null;
  links_removed: number;
  blobs_removed: number;
  bytes_freed: number;
  orphans_removed: number;
  error: string | null;
}

/** A blob a trashed image needs: kept, with its link in the image's repository, while the image is restorable. */
/**
 * Simple signatures of a trashed image whose repository went with its namespace: image_signatures
 * rows hang on the repository row, so they wait here, with the trash row, until a restore.
 */
export interface TrashSignatureTable {
  trash_id: number;
  name: string;
  content: Buffer;
  created_at: number;
  created_by: string;
}

export interface TrashReferenceTable {
  trash_id: number;
  digest: string;
}

/** A simple signature stored through the registry signature API, of an image digest in a repository. */
export interface ImageSignatureTable {
  id: Generated<number>;
  repository_id: number;
  manifest_digest: string;
  /** `<digest>@<unique>`, as the client chose it. */
  name: string;
  /** The signature bytes (an OpenPGP message for simple signing). */
  content: Buffer;
  created_at: number;
  created_by: string;
}

export type TrustKeyKind = 'gpg' | 'sigstore' | 'x509';

/** A public key an account trusts to sign images, account-wide (namespace null) or in one namespace. */
export interface TrustKeyTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  namespace: string | null;
  kind: TrustKeyKind;
  /** Armored OpenPGP public key, a PEM public key (ECDSA P-256, Ed25519), or a PEM CA certificate (notation). */
  public_key: string;
  /** OpenPGP fingerprint, or sha256 of the key's or certificate's DER encoding. */
  fingerprint: string;
  created_at: number;
  created_by: string;
}

/** Where events of an account (namespace_id null) or of one namespace are sent. */
export interface WebhookTable {
  id: Generated<number>;
  account_id: number;
  namespace_id: number | null;
  url: string;
  /** HMAC-SHA256 key of the signature header; shown to its creator once. */
  secret: string;
  /** 'distribution' (Distribution's notification envelope) or 'cloudevents' (CloudEvents 1.0 JSON). */
  format: string;
  /** Glob over the repository path inside the namespace (`**`: every repository). */
  repositories: string;
  /** JSON array of the event types sent. */
  events: string;
  created_by: string;
  created_at: number;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One event for one webhook, from the outbox written with the change to its last attempt. */
export interface WebhookDeliveryTable {
  id: Generated<number>;
  webhook_id: number;
  event_id: string;
  event_type: string;
  /** Full repository name; the ordering key (events of one repository go out in id order). */
  repository: string;
  /** JSON of the RegistryEvent. */
  event: string;
  state: DeliveryState;
  attempts: Generated<number>;
  next_attempt_at: number;
  lease_until: number | null;
  leased_by: string | null;
  last_error: string | null;
  response_status: number | null;
  created_at: number;
  finished_at: number | null;
}
