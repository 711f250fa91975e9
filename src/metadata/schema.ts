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
}

/** What a manifest points at: blobs (config, layers) and child manifests (index entries). */
export interface ManifestReferenceTable {
  manifest_id: number;
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
