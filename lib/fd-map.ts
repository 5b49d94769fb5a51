// The selector's registrations, keyed by fd.
//
// Not a Map: V8's hash table keeps a deleted entry in its bucket's chain
// until the table is rebuilt, which happens only once live plus deleted
// entries fill its capacity (about twice the live count). Unregistering an fd
// and registering the same number again, which a server does for every
// connection because the kernel hands out the lowest free fd, leaves one dead
// entry per cycle in that fd's chain, so with 10,000 fds registered each
// lookup of the recycled fd walks thousands of dead entries: 70 µs per
// register+unregister pair instead of 5 (bench/micro.ts, `register` at N =
// 10,000). fds are small, dense integers, so an array indexed by fd gives
// O(1) lookups whatever the churn. An fd too large for a sensible array
// (possible only with a raised RLIMIT_NOFILE and dup2) is kept in a Map.

/** fds below this live in the array: 8 MB of slots at most. */
const DENSE_LIMIT = 1 << 20;

/** @internal */
export class FdMap<V extends object> {
  // undefined marks a free slot; pushing undefined (never leaving holes)
  // keeps V8's fast, packed element storage.
  readonly #slots: Array<V | undefined> = [];
  #dense = 0;
  #sparse: Map<number, V> | undefined;

  get size(): number {
    return this.#dense + (this.#sparse?.size ?? 0);
  }

  get(fd: number): V | undefined {
    return fd < DENSE_LIMIT ? this.#slots[fd] : this.#sparse?.get(fd);
  }

  has(fd: number): boolean {
    return this.get(fd) !== undefined;
  }

  set(fd: number, value: V): void {
    if (fd >= DENSE_LIMIT) {
      (this.#sparse ??= new Map()).set(fd, value);
      return;
    }
    const slots = this.#slots;
    while (slots.length <= fd) slots.push(undefined);
    if (slots[fd] === undefined) this.#dense++;
    slots[fd] = value;
  }

  delete(fd: number): boolean {
    if (fd >= DENSE_LIMIT) return this.#sparse?.delete(fd) ?? false;
    if (this.#slots[fd] === undefined) return false;
    this.#slots[fd] = undefined;
    this.#dense--;
    return true;
  }

  clear(): void {
    this.#slots.length = 0;
    this.#dense = 0;
    this.#sparse = undefined;
  }

  // Iteration goes over a snapshot in fd order, so that registrations made
  // or removed while iterating neither skip nor repeat entries.
  entries(): MapIterator<[number, V]> {
    return this.#snapshot().entries();
  }

  keys(): MapIterator<number> {
    return this.#snapshot().keys();
  }

  values(): MapIterator<V> {
    return this.#snapshot().values();
  }

  #snapshot(): Map<number, V> {
    const snapshot = new Map<number, V>();
    this.#slots.forEach((value, fd) => {
      if (value !== undefined) snapshot.set(fd, value);
    });
    const sparse = this.#sparse;
    if (sparse) for (const fd of [...sparse.keys()].sort((a, b) => a - b)) snapshot.set(fd, sparse.get(fd)!);
    return snapshot;
  }
}
