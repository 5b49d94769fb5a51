// What the comparison servers share: --host/--port, the `listening on` line
// harnesses wait for, and a clean exit on SIGINT/SIGTERM.
import type { Server } from 'node:net';
import { parseArgs } from 'node:util';

export function serverOptions(): { host: string; port: number } {
  const { values } = parseArgs({
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '8000' } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad --port: ${values.port}`);
  return { host: values.host, port };
}

export function announce(server: Server): void {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not an IP server');
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  console.log(`listening on ${host}:${address.port}`);
  // Connections last one request each: exiting drops none that matter.
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
