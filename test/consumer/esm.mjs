// A user's ES module program against the installed package: the addon it
// loads is the shipped prebuild, and every backend available here reports a
// socketpair readable once its peer writes, and not before or after a drain.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { DefaultSelector, EVENT_READ, availableBackends, selectorClass, sys } from 'node-selectors';

const root = dirname(createRequire(import.meta.url).resolve('node-selectors/package.json'));
assert.equal(existsSync(join(root, 'build')), false, `${root} has a build/ directory: something compiled at install`);
const nodeGypBuild = createRequire(join(root, 'package.json'))('node-gyp-build');
const addon = nodeGypBuild.path(root);
const prebuilds = join(root, 'prebuilds', `${process.platform}-${process.arch}`) + sep;
assert.ok(addon.startsWith(prebuilds), `the addon loaded is ${addon}, not a prebuild in ${prebuilds}`);

const backends = availableBackends();
assert.ok(backends.length > 0, 'no backend available');
assert.equal(new DefaultSelector().backend, backends[0]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();
for (const name of backends) {
  const Selector = selectorClass(name);
  const sel = new Selector();
  const [a, b] = sys.socketpair();
  try {
    sel.register(a, EVENT_READ, 'peer a');
    assert.deepEqual(sel.select(0), [], `${name}: readable before the peer wrote`);
    assert.equal(sys.write(b, encoder.encode('ping')), 4);
    const ready = sel.select(1000);
    assert.equal(ready.length, 1, `${name}: ${ready.length} ready keys, not 1`);
    const [key, events] = ready[0];
    assert.equal(key.fd, a);
    assert.equal(key.data, 'peer a');
    assert.equal(events, EVENT_READ);
    const buf = new Uint8Array(16);
    const n = sys.read(a, buf);
    assert.equal(decoder.decode(buf.subarray(0, n)), 'ping');
    assert.deepEqual(sel.select(0), [], `${name}: still readable once drained`);
  } finally {
    sel.close();
    sys.close(a);
    sys.close(b);
  }
}
console.log(`esm: the prebuild ${addon.slice(root.length + 1)} loaded; a socketpair read as ready on ${backends.join(', ')}`);
