// The layering of lib/, checked by `npm test` (npm run check:deps):
//   selectors (selector.ts, backends.ts, selectors/, sys/, native.ts, errors.ts)
//     <- the reactor core (reactor/core.ts, timers.ts, far-timer.ts, clock.ts, attach.ts, slow.ts)
//     <- the layers (reactor/coroutines.ts (with fd-waits.ts beneath it) <- ops.ts <- streams.ts <- server.ts, streams.ts taking its
//        options from stream-options.ts (types and checks); streams.ts, signals.ts <- process.ts;
//        server.ts opens its listening sockets with listener.ts (sys and node:fs only);
//        coroutines.ts <- tasks.ts; socket-options.ts <- socket.ts; signals.ts;
//        inbox.ts, which stands alone on the core;
//        coroutines.ts, datagram-options.ts <- datagram.ts)
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
      from: { path: '^lib/reactor/(core|timers|far-timer|clock|attach|slow)\\.ts$' },
      to: { path: '^lib/reactor/(coroutines|fd-waits|ops|streams|stream-options|server|listener|socket|socket-options|signals|tasks|inbox|datagram|datagram-options|process|reactor|index)\\.ts$' },
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
      comment: 'Tests and examples take what they share with the benchmarks from support/, not bench/; only the harness tests (test/bench-harness.test.ts, test/bench-method.test.ts) import bench/.',
      from: { path: '^(test|examples)/', pathNot: '^test/bench-(harness|method)\\.test\\.ts$' },
      to: { path: '^bench/' },
    },
    {
      name: 'inbox-stands-alone',
      severity: 'error',
      comment: 'The inbox is a layer on the core alone: no other layer imports it (only the facade and the entry point).',
      from: { path: '^lib/reactor/', pathNot: '^lib/reactor/(inbox|reactor|index)\\.ts$' },
      to: { path: '^lib/reactor/inbox\\.ts$' },
    },
    {
      name: 'inbox-imports-no-layer',
      severity: 'error',
      comment: 'The inbox imports no other layer: it uses the core public calls only.',
      from: { path: '^lib/reactor/inbox\\.ts$' },
      to: { path: '^lib/reactor/(coroutines|ops|streams|server|socket|socket-options)\\.ts$' },
    },
    {
      name: 'layers-in-order',
      severity: 'error',
      comment: 'coroutines <- streams <- server; ReactorSocket stands beside them on the core.',
      from: { path: '^lib/reactor/(coroutines|fd-waits|socket|socket-options)\\.ts$' },
      to: { path: '^lib/reactor/(ops|streams|server|socket|coroutines|tasks|datagram)\\.ts$', pathNot: '$from' },
    },
    {
      name: 'datagram-on-coroutines',
      severity: 'error',
      comment: 'Datagram endpoints (datagram.ts) stand on the core and coroutines (for drain()), beside streams, the server, ReactorSocket and the task helpers.',
      from: { path: '^lib/reactor/datagram\\.ts$' },
      to: { path: '^lib/reactor/(ops|streams|server|socket|socket-options|tasks|signals)\\.ts$' },
    },
    {
      name: 'datagram-options-alone',
      severity: 'error',
      comment: 'The options of datagram endpoints (datagram-options.ts) are types and checks: nothing of the reactor.',
      from: { path: '^lib/reactor/datagram-options\\.ts$' },
      to: { path: '^lib/reactor/' },
    },
    {
      name: 'fd-waits-below-coroutines',
      severity: 'error',
      comment: 'The fd and sleep waits (fd-waits.ts) stand on the core alone: coroutines.ts builds on them, never the reverse.',
      from: { path: '^lib/reactor/fd-waits\\.ts$' },
      to: { path: '^lib/reactor/(coroutines|ops|streams|server|socket|tasks|datagram|process|signals|inbox)\\.ts$' },
    },
    {
      name: 'stream-options-alone',
      severity: 'error',
      comment: 'The options of streams (stream-options.ts) are types and checks: nothing of the reactor.',
      from: { path: '^lib/reactor/stream-options\\.ts$' },
      to: { path: '^lib/reactor/' },
    },
    {
      name: 'ops-below-streams',
      severity: 'error',
      comment: 'Op (ops.ts) stands on coroutines alone; streams.ts builds on it, never the reverse.',
      from: { path: '^lib/reactor/ops\\.ts$' },
      to: { path: '^lib/reactor/(streams|server|socket|tasks|datagram|process|signals)\\.ts$' },
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
      to: { path: '^lib/reactor/(ops|streams|server|socket)\\.ts$' },
    },
    {
      name: 'process-on-streams',
      severity: 'error',
      comment: 'Child processes (process.ts) are a layer on coroutines, streams and signals (its SIGCHLD exit watcher); no other layer imports it.',
      from: { path: '^lib/reactor/', pathNot: '^lib/reactor/(process|reactor|index)\\.ts$' },
      to: { path: '^lib/reactor/process\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
