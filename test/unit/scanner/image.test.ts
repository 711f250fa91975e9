import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FinalFilesystem, parseWhiteout } from '../../../src/scanner/image/whiteouts.js';
import { normalizeEntryPath } from '../../../src/scanner/image/tar.js';
import { declaredCompression, sniffCompression } from '../../../src/scanner/image/decompress.js';
import { isWorldWritable, keptRole } from '../../../src/scanner/image/wanted.js';

describe('whiteout entries', () => {
  it('recognises .wh.<name>, the opaque marker, and ignores aufs bookkeeping', () => {
    assert.deepEqual(parseWhiteout('/etc/.wh.passwd'), { kind: 'delete', path: '/etc/passwd' });
    assert.deepEqual(parseWhiteout('/.wh.opt'), { kind: 'delete', path: '/opt' });
    assert.deepEqual(parseWhiteout('/usr/lib/.wh..wh..opq'), { kind: 'opaque', dir: '/usr/lib' });
    assert.equal(parseWhiteout('/.wh..wh.plnk'), 'ignore');
    assert.equal(parseWhiteout('/etc/passwd'), undefined);
    assert.equal(parseWhiteout('/etc/x.wh.y'), undefined);
  });
});

describe('final filesystem', () => {
  const v = (layer: number) => ({ layer });
  it('a whiteout deletes lower-layer paths and subtrees, not the same layer’s', () => {
    const fs = new FinalFilesystem<{ layer: number }>();
    fs.put('/a/b/c', v(0), false, 0);
    fs.put('/a/b/d', v(0), false, 0);
    fs.put('/a/x', v(1), false, 1);
    fs.whiteout({ kind: 'delete', path: '/a/b' }, 1);
    fs.whiteout({ kind: 'delete', path: '/a/x' }, 1);
    assert.deepEqual([...fs.entries()].map(([p]) => p), ['/a/x']);
    assert.equal(fs.size, 1);
  });
  it('an opaque directory keeps the directory’s own value and the same layer’s children', () => {
    const fs = new FinalFilesystem<{ layer: number }>();
    fs.put('/d', v(0), true, 0);
    fs.put('/d/old', v(0), false, 0);
    fs.put('/d/sub/old', v(0), false, 0);
    fs.put('/d/new', v(1), false, 1);
    fs.whiteout({ kind: 'opaque', dir: '/d' }, 1);
    assert.deepEqual([...fs.entries()].map(([p]) => p).sort(), ['/d', '/d/new']);
  });
  it('a non-directory replaces a lower subtree; a directory entry does not', () => {
    const fs = new FinalFilesystem<{ layer: number }>();
    fs.put('/opt/app/x', v(0), false, 0);
    fs.put('/opt/app', undefined, true, 1);
    assert.equal(fs.get('/opt/app/x')?.layer, 0);
    fs.put('/opt/app', undefined, false, 2);
    assert.equal(fs.get('/opt/app/x'), undefined);
    assert.equal(fs.size, 0);
  });
});

describe('entry paths and kept files', () => {
  it('normalises tar names', () => {
    assert.equal(normalizeEntryPath('./etc/os-release'), '/etc/os-release');
    assert.equal(normalizeEntryPath('usr//lib/../lib/x/'), '/usr/lib/x');
    assert.equal(normalizeEntryPath('../../etc/passwd'), '/etc/passwd');
    assert.equal(normalizeEntryPath('./'), '/');
  });
  it('keeps what the detectors read and nothing else', () => {
    assert.equal(keptRole('/var/lib/dpkg/status'), 'dpkg-status');
    assert.equal(keptRole('/var/lib/dpkg/status.d/libc6'), 'dpkg-status-d');
    assert.equal(keptRole('/var/lib/dpkg/status.d/libc6.md5sums'), undefined);
    assert.equal(keptRole('/usr/lib/node_modules/@types/node/package.json'), 'npm-manifest');
    assert.equal(keptRole('/usr/lib/node_modules/x/test/package.json'), undefined);
    assert.equal(keptRole('/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA'), 'python-metadata');
    assert.equal(keptRole('/usr/lib/python3.11/site-packages/foo-1.0-py3.11.egg-info/PKG-INFO'), 'python-metadata');
    assert.equal(keptRole('/etc/hostname'), undefined);
  });
  it('world-writable: regular files with o+w, directories with o+w and no sticky bit', () => {
    assert.equal(isWorldWritable('file', 0o666), true);
    assert.equal(isWorldWritable('file', 0o664), false);
    assert.equal(isWorldWritable('directory', 0o777), true);
    assert.equal(isWorldWritable('directory', 0o1777), false);
    assert.equal(isWorldWritable('symlink', 0o777), false);
  });
  it('compression from the media type, or from magic bytes', () => {
    assert.equal(declaredCompression('application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip');
    assert.equal(declaredCompression('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
    assert.equal(declaredCompression('application/vnd.oci.image.layer.nondistributable.v1.tar+zstd'), 'zstd');
    assert.equal(declaredCompression('application/vnd.oci.image.layer.v1.tar'), 'none');
    assert.equal(declaredCompression('application/octet-stream'), undefined);
    assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
    assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(sniffCompression(Buffer.from('etc/')), undefined);
  });
});
