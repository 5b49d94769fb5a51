// A user's CommonJS program: require() of this ES-module package (Node
// >= 20.19, as package.json's engines says). A socketpair with room in its
// buffer is reported writable.
const assert = require('node:assert/strict');
const { DefaultSelector, EVENT_READ, EVENT_WRITE, sys } = require('node-selectors');

const [a, b] = sys.socketpair();
const sel = new DefaultSelector();
try {
  sel.register(a, EVENT_READ | EVENT_WRITE, 'peer a');
  const ready = sel.select(1000);
  assert.equal(ready.length, 1);
  assert.equal(ready[0][0].fd, a);
  assert.equal(ready[0][1], EVENT_WRITE, 'writable only: nothing was written to it');
} finally {
  sel.close();
  sys.close(a);
  sys.close(b);
}
console.log(`cjs: require() works on Node ${process.versions.node}; ${sel.backend} reported a socketpair writable`);
