import { BlobService } from './blobs.js';
import type { RegistryContext } from './context.js';
import { DiscoveryService } from './discovery.js';
import { ManifestService } from './manifests.js';
import { UploadService } from './uploads.js';
import { ImageService } from './images.js';

/** The registry core: every service over one context. */
export class Registry {
  readonly blobs: BlobService;
  readonly uploads: UploadService;
  readonly manifests: ManifestService;
  readonly discovery: DiscoveryService;
  readonly images: ImageService;

  constructor(readonly ctx: RegistryContext) {
    this.blobs = new BlobService(ctx);
    this.uploads = new UploadService(ctx);
    this.manifests = new ManifestService(ctx);
    this.discovery = new DiscoveryService(ctx);
    this.images = new ImageService(ctx, this.manifests, this.blobs);
  }
}
