// The hello-world servers of the comparison and how to start each one (all
// take --port 0 and print `listening on HOST:PORT`): the hand-written server
// of examples/hello.ts on every available backend and on DefaultSelector, the
// reactor's hello in each coroutine style, the C epoll reference, node:net
// and node:http. Run `tsc` first: the Node ones start from dist/. A server
// whose program is not there (not built, or not written yet) is listed as
// skipped with the reason, so a harness runs whatever exists. The same
// command lines with --keep-alive start the servers of the keep-alive table
// (KEEPALIVE_SERVERS): HTTP/1.1, every request of a kept connection answered.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableBackends, DefaultSelector } from '../../lib/index.js';
import { compileC, packageRoot } from '../build-c.js';

export type ServerKind = 'C' | 'hand-written loop' | 'reactor' | 'Node';

export interface CommandOptions {
  /** Start it with --keep-alive: it keeps each connection and answers every
   * request on it (pipelined ones in order) instead of closing after one. */
  keepAlive?: boolean;
}

export interface HelloServer {
  name: string;
  kind: ServerKind;
  /** The command line that starts it (compiling the C server on first use). */
  command: (options?: CommandOptions) => Promise<[string, string[]]>;
  /** It keeps every connection whatever the request says, so it belongs in
   * the keep-alive table only. */
  keepAliveOnly?: boolean;
}

export interface HelloServerList {
  servers: HelloServer[];
  /** One line per server that cannot run here, with the reason. */
  skipped: string[];
}

/** The name of the C reference server, to which every figure is compared. */
export const C_SERVER = 'c-epoll';

/** The servers of the keep-alive table, by name, the C one first: the
 * hand-written epoll loop, the reactor's styles and Node's own servers. */
export const KEEPALIVE_SERVERS: readonly string[] = [
  C_SERVER,
  'epoll',
  'reactor callbacks',
  'reactor generators',
  'reactor async',
  'node:net',
  'node:net minimal',
  'node:http',
];

/** The least a node:net keep-alive server can do (bench/servers/net-minimal.ts),
 * against which every reactor style is held in the keep-alive table. */
export const NET_MINIMAL = 'node:net minimal';

/** The reactor's callbacks hello with `--idle-timeout 0`: what the example's
 * default 30 s idle timeout costs is its paired ratio to `reactor callbacks`. */
export const NO_IDLE_TIMEOUT = 'reactor callbacks (no idle timeout)';

/** The flag that turns a hello server's keep-alive on. */
const keepAliveArgs = (options?: CommandOptions): string[] => (options?.keepAlive ? ['--keep-alive'] : []);

/** The reactor's coroutine styles, each a server of its own. */
export const REACTOR_STYLES = ['callbacks', 'generators', 'async'] as const;

export function discoverHelloServers(): HelloServerList {
  const root = packageRoot();
  const servers: HelloServer[] = [];
  const skipped: string[] = [];
  const node = (script: string, ...args: string[]) => async (options?: CommandOptions): Promise<[string, string[]]> => [
    process.execPath,
    [join(root, 'dist', script), ...args, ...keepAliveArgs(options), '--port', '0'],
  ];
  const add = (name: string, kind: ServerKind, script: string, ...args: string[]) => {
    if (existsSync(join(root, 'dist', script))) servers.push({ name, kind, command: node(script, ...args) });
    else skipped.push(`${name}: dist/${script} does not exist (not written yet, or run \`npx tsc\`)`);
  };

  servers.push({
    name: C_SERVER,
    kind: 'C',
    command: async (options) => [await compileC('hello_epoll'), [...keepAliveArgs(options), '--port', '0']],
  });
  for (const backend of availableBackends()) add(backend, 'hand-written loop', 'examples/hello.js', '--backend', backend);
  // The same loops edge-triggered, where the backend has it.
  for (const backend of availableBackends().filter((b) => b === 'epoll' || b === 'io_uring' || b === 'kqueue')) {
    add(`${backend} (edge)`, 'hand-written loop', 'examples/hello.js', '--backend', backend, '--trigger', 'edge');
  }
  const probe = new DefaultSelector();
  const defaultBackend = probe.backend;
  probe.close();
  add(`DefaultSelector (${defaultBackend})`, 'hand-written loop', 'examples/hello.js', '--backend', 'default');
  for (const style of REACTOR_STYLES) add(`reactor ${style}`, 'reactor', 'examples/hello-reactor.js', '--style', style);
  // The same callbacks without the idle timer, to which the hello table holds
  // what the default 30 s timeout costs (not in KEEPALIVE_SERVERS).
  add(NO_IDLE_TIMEOUT, 'reactor', 'examples/hello-reactor.js', '--style', 'callbacks', '--idle-timeout', '0');
  add('node:net', 'Node', 'bench/servers/net.js');
  add(NET_MINIMAL, 'Node', 'bench/servers/net-minimal.js');
  const minimal = servers.find((s) => s.name === NET_MINIMAL);
  if (minimal) minimal.keepAliveOnly = true;
  add('node:http', 'Node', 'bench/servers/http.js');
  return { servers, skipped };
}

/** The servers that can run here. */
export function helloServers(): HelloServer[] {
  return discoverHelloServers().servers;
}
