// Resources collected without close() are made visible, as Python's
// `ResourceWarning: unclosed selector` does: the first such selector (and
// the first such reactor) collected in a process emits a process warning of
// type 'ResourceWarning' naming the call that was missed. The kernel objects
// are freed on collection either way (the addon's finalizers); the warning
// is for the fds they held until then, which is how a program that forgets
// close() runs out of them.

/** What the registry holds per live resource; never the resource itself. */
interface Tracked {
  readonly kind: string;
  readonly message: string;
  /** Set when another owner's warning will cover it (a reactor's own selector). */
  quiet: boolean;
}

// The registry watches a token per resource, not the resource: the token is
// kept alive by the resource through `tokens` (an ephemeron: alive while its
// key is) and dies with it. Registering the resource itself keeps it, and the
// native memory it holds, past young-generation collections (V8 processes
// weak cells only in full ones), which a program that opens and closes many
// selectors pays for in RSS.
const warned = new Set<string>();
const tokens = new WeakMap<object, { token: object; tracked: Tracked }>();
const registry = new FinalizationRegistry<Tracked>((t) => {
  if (t.quiet || warned.has(t.kind)) return;
  warned.add(t.kind);
  process.emitWarning(t.message, { type: 'ResourceWarning' });
});

/** Warns (once per process and kind) if `resource` is collected before
 * untrackResource() is called for it. */
export function trackResource(resource: object, kind: string, message: string): void {
  const token = {};
  const tracked: Tracked = { kind, message, quiet: false };
  tokens.set(resource, { token, tracked });
  registry.register(token, tracked, token);
}

/** `resource` was closed: no warning for it. */
export function untrackResource(resource: object): void {
  const entry = tokens.get(resource);
  if (entry === undefined) return;
  tokens.delete(resource);
  registry.unregister(entry.token);
}

/** `resource` is owned by something tracked itself, whose warning covers it. */
export function quietResource(resource: object): void {
  const entry = tokens.get(resource);
  if (entry !== undefined) entry.tracked.quiet = true;
}
