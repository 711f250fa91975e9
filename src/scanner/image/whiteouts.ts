/**
 * The final filesystem of an image, as far as the scanner keeps it: layers are applied in order
 * and what an upper layer says about a path replaces what lower layers said, as an overlay
 * filesystem does (OCI image spec, "Applying changesets"):
 *  - an entry at a path replaces the lower entry there; a non-directory also hides everything
 *    the lower layers had below it;
 *  - `.wh.<name>` deletes <name> (and what is below it) from the lower layers;
 *  - `.wh..wh..opq` in a directory hides everything the lower layers had in that directory;
 *    entries of the same layer stay, wherever they come in the archive.
 * Only the paths the scanner cares about are stored, in a tree, so a whiteout of a directory
 * costs what is kept below it, not what the image holds.
 */

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

export type Whiteout = { kind: 'delete'; path: string } | { kind: 'opaque'; dir: string };

/** Recognises a whiteout entry by its (normalised) path; undefined for an ordinary entry. */
export function parseWhiteout(path: string): Whiteout | 'ignore' | undefined {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const dir = slash <= 0 ? '/' : path.slice(0, slash);
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque', dir };
  if (base.startsWith('.wh..wh.')) return 'ignore'; // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs)
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') return 'ignore';
  return { kind: 'delete', path: dir === '/' ? `/${name}` : `${dir}/${name}` };
}

interface Node<T> {
  value?: T;
  children?: Map<string, Node<T>>;
}

export interface Layered {
  /** Index of the layer that wrote the value, bottom layer 0. */
  layer: number;
}

export class FinalFilesystem<T extends Layered> {
  private readonly root: Node<T> = {};
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(path: string): T | undefined {
    return this.find(path)?.value;
  }

  /** Sets (or with undefined, clears) what is kept for a path; a non-directory also clears the lower subtree. */
  put(path: string, value: T | undefined, isDirectory: boolean, layer: number): void {
    if (!isDirectory) {
      const node = this.find(path);
      if (node?.children) this.removeBelow(node, layer + 1);
    }
    if (value === undefined) {
      const node = this.find(path);
      if (node?.value !== undefined) {
        delete node.value;
        this.count--;
      }
      return;
    }
    const node = this.find(path, true)!;
    if (node.value === undefined) this.count++;
    node.value = value;
  }

  /** Applies a whiteout entry of `layer`. */
  whiteout(w: Whiteout, layer: number): void {
    if (w.kind === 'opaque') {
      const node = this.find(w.dir);
      if (node) this.removeBelow(node, layer);
      return;
    }
    const node = this.find(w.path);
    if (!node) return;
    if (node.value !== undefined && node.value.layer < layer) {
      delete node.value;
      this.count--;
    }
    this.removeBelow(node, layer);
  }

  /** Every kept path with its value, in no particular order. */
  *entries(prefix = '', node: Node<T> = this.root): Generator<[string, T]> {
    if (node.value !== undefined) yield [prefix === '' ? '/' : prefix, node.value];
    if (node.children) for (const [name, child] of node.children) yield* this.entries(`${prefix}/${name}`, child);
  }

  /** Removes values below `node` written by layers under `layer`; prunes emptied nodes. */
  private removeBelow(node: Node<T>, layer: number): void {
    if (!node.children) return;
    for (const [name, child] of node.children) {
      if (child.value !== undefined && child.value.layer < layer) {
        delete child.value;
        this.count--;
      }
      this.removeBelow(child, layer);
      if (child.value === undefined && !child.children) node.children.delete(name);
    }
    if (node.children.size === 0) delete node.children;
  }

  private find(path: string, create = false): Node<T> | undefined {
    let node = this.root;
    for (const part of path.split('/')) {
      if (part === '') continue;
      let next = node.children?.get(part);
      if (!next) {
        if (!create) return undefined;
        next = {};
        (node.children ??= new Map()).set(part, next);
      }
      node = next;
    }
    return node;
  }
}
