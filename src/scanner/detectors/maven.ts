import yauzl from 'yauzl';
import type { DetectedPackage } from './types.js';

/**
 * Java packages by the pom.properties Maven writes into every artifact it builds:
 * META-INF/maven/<groupId>/<artifactId>/pom.properties with `groupId`, `artifactId` and `version`
 * lines (java.util.Properties: `key=value` or `key: value`, `#` comments). Maven advisories name
 * the package "groupId:artifactId". Read from files on the image's filesystem (an exploded
 * archive) and from inside .jar/.war/.ear files, including the jars a Spring Boot or WAR archive
 * carries in BOOT-INF/lib or WEB-INF/lib.
 */
export function parsePomProperties(content: string | Buffer): DetectedPackage | undefined {
  const props = new Map<string, string>();
  for (const raw of content.toString('utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m) props.set(m[1]!, m[2]!.trim());
  }
  const groupId = props.get('groupId');
  const artifactId = props.get('artifactId');
  const version = props.get('version');
  if (!groupId || !artifactId || !version) return undefined;
  return { type: 'maven', name: `${groupId}:${artifactId}`, version };
}

const POM_PROPERTIES = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
const NESTED_ARCHIVE = /\.(jar|war|ear)$/i;
/** pom.properties files are a few hundred bytes; a bigger entry is not one. */
const MAX_PROPERTIES_BYTES = 64 * 1024;
/** Archives inside archives (a jar in a WAR's WEB-INF/lib) are read this deep, no deeper. */
const MAX_DEPTH = 2;

export interface ArchivePackage extends DetectedPackage {
  /** Where inside the archive, e.g. "BOOT-INF/lib/log4j-core-2.14.1.jar!/META-INF/maven/…". */
  entry: string;
}

function openZip(buf: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip))));
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, max: number): Promise<Buffer | undefined> {
  if (entry.uncompressedSize > max) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) stream.destroy(new Error('entry larger than it says'));
        else chunks.push(c);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

/**
 * The Maven packages of one Java archive. A damaged archive yields what could be read before
 * the damage and the reason, so the scan reports it instead of failing the image.
 */
export async function mavenPackagesInArchive(archive: Buffer, maxNestedBytes: number, depth = 1): Promise<{ packages: ArchivePackage[]; error?: string }> {
  const packages: ArchivePackage[] = [];
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(archive);
  } catch (err) {
    return { packages, error: (err as Error).message };
  }
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          if (POM_PROPERTIES.test(entry.fileName)) {
            const content = await readEntry(zip, entry, MAX_PROPERTIES_BYTES);
            const pkg = content && parsePomProperties(content);
            if (pkg) packages.push({ ...pkg, entry: entry.fileName });
          } else if (depth < MAX_DEPTH && NESTED_ARCHIVE.test(entry.fileName)) {
            const content = await readEntry(zip, entry, maxNestedBytes);
            if (content) {
              const nested = await mavenPackagesInArchive(content, maxNestedBytes, depth + 1);
              packages.push(...nested.packages.map((p) => ({ ...p, entry: `${entry.fileName}!/${p.entry}` })));
            }
          }
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } catch (err) {
    return { packages, error: (err as Error).message };
  } finally {
    zip.close();
  }
  return { packages };
}
