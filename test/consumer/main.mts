// A user's TypeScript program (strict, module nodenext) against the installed
// package's declarations: the selector's data is typed, misuse does not
// compile, and a socketpair is reported readable once its peer writes.
import assert from 'node:assert/strict';
import {
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  availableBackends,
  sys,
  type BackendName,
  type SelectorKey,
} from 'node-selectors';

interface Peer {
  name: string;
}

// Never called: each line must fail to compile.
function misuses(sel: DefaultSelector<Peer>): void {
  // @ts-expect-error the data of a DefaultSelector<Peer> is a Peer
  sel.register(0, EVENT_READ, 42);
  // @ts-expect-error not a backend name
  const backend: BackendName = 'iocp';
  void backend;
}
void misuses;

const [r, w] = sys.socketpair();
const sel: DefaultSelector<Peer> = new DefaultSelector<Peer>();
try {
  const key: SelectorKey<Peer> = sel.register(r, EVENT_READ, { name: 'reader' });
  assert.equal(key.events, EVENT_READ);
  const backend: BackendName = sel.backend;
  assert.equal(backend, availableBackends()[0]);
  assert.deepEqual(sel.select(0), []);
  sys.write(w, new TextEncoder().encode('pong'));
  const ready: Array<[SelectorKey<Peer>, number]> = sel.select(1000);
  assert.equal(ready.length, 1);
  const [first] = ready;
  assert.ok(first);
  const [got, events] = first;
  const name: string = got.data.name;
  assert.equal(name, 'reader');
  assert.equal(events & EVENT_READ, EVENT_READ);
  assert.equal(events & EVENT_WRITE, 0);
  console.log(`ts: ${backend} reported ${name}'s socketpair readable`);
} finally {
  sel.close();
  sys.close(r);
  sys.close(w);
}
