// The layering of lib/, checked by `npm test` (npm run check:deps):
//   selectors (selector.ts, backends.ts, selectors/, sys/, native.ts, errors.ts)
//     <- the reactor core (reactor/core.ts, timers.ts, attach.ts, slow.ts)
//     <- the layers (reactor/coroutines.ts <- streams.ts <- server.ts, which
//        opens its listening sockets with listener.ts (sys and node:fs only);
//        coroutines.ts <- tasks.ts; socket-options.ts <- socket.ts; signals.ts)
//     <- the facade (reactor/reactor.ts), which alone imports every layer
//     <- the entry points (index.ts, reactor/index.ts).
// Around lib/, which imports none of them: support/ (what tests, examples and
// benchmarks share), which imports none of those either; tests and examples
// never reach into bench/, but test/bench-harness.test.ts, which tests it.
// Type-only imports count: a cycle of types is still a cycle to read.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle anywhere in lib/.',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'core-knows-no-layer',
      severity: 'error',
      comment: 'The reactor core offers handlers, callbacks and timers; the layers built on it use its public calls, never the reverse.',
      from: { path: '^lib/reactor/(core|timers|attach|slow)\\.ts$' },
      to: { path: '^lib/reactor/(coroutines|streams|server|listener|socket|socket-options|signals|tasks|reactor|index)\\.ts$' },
    },
    {
      name: 'layers-below-facade',
      severity: 'error',
      comment: 'Layers take the loop as an argument (a ReactorCore); only the entry points import the Reactor facade.',
      from: { path: '^lib/', pathNot: '^lib/(index|reactor/index)\\.ts$' },
      to: { path: '^lib/reactor/(reactor|index)\\.ts$' },
    },
    {
      name: 'selectors-know-no-reactor',
      severity: 'error',
      comment: 'The selectors and sys are usable without the reactor.',
      from: { path: '^lib/', pathNot: '^lib/(index\\.ts|reactor/)' },
      to: { path: '^lib/reactor/' },
    },
    {
      name: 'sys-stands-alone',
      severity: 'error',
      comment: 'sys/ wraps system calls: it needs the addon and the error module, nothing else of lib/.',
      from: { path: '^lib/sys/' },
      to: { path: '^lib/', pathNot: '^lib/(sys/|native\\.ts$|errors\\.ts$)' },
    },
    {
      name: 'sys-modules-below-index',
      severity: 'error',
      comment: 'The modules of sys/ share checks.ts (and the address types of net.ts); only sys/index.ts gathers them.',
      from: { path: '^lib/sys/', pathNot: '^lib/sys/index\\.ts$' },
      to: { path: '^lib/sys/index\\.ts$' },
    },
    {
      name: 'no-entry-point-inside',
      severity: 'error',
      comment: 'Modules of lib/ import each other directly, never through the package entry point.',
      from: { path: '^lib/', pathNot: '^lib/index\\.ts$' },
      to: { path: '^lib/index\\.ts$' },
    },
    {
      name: 'lib-stands-alone',
      severity: 'error',
      comment: 'What ships (lib/) imports nothing from tests, benchmarks, examples or their support code.',
      from: { path: '^lib/' },
      to: { path: '^(test|bench|examples|support|scripts)/' },
    },
    {
      name: 'support-stands-apart',
      severity: 'error',
      comment: 'support/ serves tests, examples and benchmarks alike, so it imports none of them.',
      from: { path: '^support/' },
      to: { path: '^(test|bench|examples|scripts)/' },
    },
    {
      name: 'no-bench-in-tests-or-examples',
      severity: 'error',
      comment: 'Tests and examples take what they share with the benchmarks from support/, not bench/; only the harness test (test/bench-harness.test.ts) imports bench/.',
      from: { path: '^(test|examples)/', pathNot: '^test/bench-harness\\.test\\.ts$' },
      to: { path: '^bench/' },
    },
    {
      name: 'layers-in-order',
      severity: 'error',
      comment: 'coroutines <- streams <- server; ReactorSocket stands beside them on the core.',
      from: { path: '^lib/reactor/(coroutines|socket|socket-options)\\.ts$' },
      to: { path: '^lib/reactor/(streams|server|socket|coroutines|tasks)\\.ts$', pathNot: '$from' },
    },
    {
      name: 'listener-on-sys',
      severity: 'error',
      comment: 'listener.ts opens the servers\' listening sockets with sys alone: it knows no other part of the reactor.',
      from: { path: '^lib/reactor/listener\\.ts$' },
      to: { path: '^lib/reactor/' },
    },
    {
      name: 'task-helpers-on-coroutines',
      severity: 'error',
      comment: 'gather and withTimeout (tasks.ts) stand on coroutines alone, beside streams, the server and ReactorSocket.',
      from: { path: '^lib/reactor/tasks\\.ts$' },
      to: { path: '^lib/reactor/(streams|server|socket)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
