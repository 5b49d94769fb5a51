// The hello-world servers of the comparison and how to start each one (all
// take --port 0 and print `listening on HOST:PORT`): the hand-written server
// of examples/hello.ts on every available backend, the C epoll reference,
// node:net and node:http. Run `tsc` first: the Node ones start from dist/.
import { join } from 'node:path';
import { availableBackends } from '../../lib/index.js';
import { compileC, packageRoot } from '../build-c.js';

export interface HelloServer {
  name: string;
  /** The command line that starts it (compiling the C server on first use). */
  command: () => Promise<[string, string[]]>;
}

export function helloServers(): HelloServer[] {
  const root = packageRoot();
  const node = (script: string, ...args: string[]) => async (): Promise<[string, string[]]> => [
    process.execPath,
    [join(root, 'dist', script), ...args, '--port', '0'],
  ];
  const hand = availableBackends().map((backend) => ({
    name: backend,
    command: node('examples/hello.js', '--backend', backend),
  }));
  return [
    ...hand,
    { name: 'c-epoll', command: async () => [await compileC('hello_epoll'), ['--port', '0']] },
    { name: 'node:net', command: node('bench/servers/net.js') },
    { name: 'node:http', command: node('bench/servers/http.js') },
  ];
}
