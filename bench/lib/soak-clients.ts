// The client mix of the soak (bench/soak.ts) and what its load generator
// (bench/soak-load.ts) reports, shared by the two processes.

/** The kinds of clients; soak-load.ts says what each does. */
export const KINDS = ['normal', 'halfClose', 'slow', 'reset', 'idle'] as const;
export type ClientKind = (typeof KINDS)[number];
/** The share of the clients of each kind; idle takes what the others leave. */
export const MIX: Record<ClientKind, number> = { normal: 0.3, halfClose: 0.08, slow: 0.02, reset: 0.1, idle: 0.5 };

/** A client's pause between attempts (echo's normal clients: between round
 * trips), ms, uniform in the range. Without it the clients together ask for
 * more than one core of Node can send and check: the load generator falls
 * behind (seconds of event-loop delay), and the latencies, the slow
 * readers' pace and even timeouts then measure its own backlog instead of
 * the server. With it the load is still tens of thousands of connections
 * and hundreds of thousands of answers a minute. */
export const THINK_MS: Record<'hello' | 'echo', Record<ClientKind, [number, number]>> = {
  hello: { normal: [0, 1000], halfClose: [0, 1000], slow: [0, 0], reset: [0, 1000], idle: [0, 0] },
  echo: { normal: [0, 400], halfClose: [0, 1000], slow: [0, 0], reset: [0, 1000], idle: [0, 0] },
};

/** How many clients of each kind `clients` makes: each kind at least one
 * (with 5 or more clients), idle the rest. */
export function clientMix(clients: number): Record<ClientKind, number> {
  const out = { normal: 0, halfClose: 0, slow: 0, reset: 0, idle: 0 };
  let left = clients;
  for (const kind of KINDS) {
    if (kind === 'idle') continue;
    const n = Math.min(left, Math.max(clients >= KINDS.length ? 1 : 0, Math.round(MIX[kind] * clients)));
    out[kind] = n;
    left -= n;
  }
  out.idle = left;
  return out;
}

export interface LoadCounters {
  /** Seconds since the load started. */
  t: number;
  /** Answers received whole and correct, per client kind. */
  served: Record<'normal' | 'halfClose' | 'slow', number>;
  /** RSTs sent by reset clients on open connections. */
  resets: number;
  /** Reset clients whose connection the server had closed before the RST. */
  resetLate: number;
  /** Idle connections held and closed by the client, without error. */
  idleHeld: number;
  /** Echo's slow readers: seconds from sending their 1 MiB to reading it all
   * back, summed over the answers served. */
  slowReadSeconds: number;
  /** Connections opened. */
  connections: number;
  /** Errors per client kind, per error kind. */
  errors: Record<ClientKind, Record<string, number>>;
  /** Sockets open now (connecting or connected). */
  open: number;
  /** This process's CPU time so far, µs (user + system). */
  cpuUs: number;
  /** Event-loop delay over the last second, ms: p99 and max. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Latency of the normal clients' answers completed in the last second, ms. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Attempts still under way when the drain ended (final line only). */
  unfinished?: number;
}

