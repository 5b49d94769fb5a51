// node:http clients over ReactorSocket against a node:http server: the
// `createConnection` request option and an Agent's, GET and a 3 MB POST
// byte-exact, keep-alive reuse, and no fd left behind.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type RequestOptions, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnection, Reactor } from '../lib/index.js';
import { defaultBackend, fdsChangedSince, kqueueLimit, openFds } from './helpers.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let server: Server;
let port: number;
let reactor: Reactor;
/** The server's sockets: each request's, to count connections. */
const connections: unknown[] = [];

beforeEach(async () => {
  connections.length = 0;
  // Echoes the method, the path and the body's digest and length.
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, length: body.length, sha: sha(body) }));
    });
  });
  server.on('connection', (s) => connections.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  reactor = new Reactor();
  reactor.attach();
});

afterEach(async () => {
  reactor.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

interface Reply {
  status: number;
  json: { method: string; url: string; length: number; sha: string };
  res: IncomingMessage;
}

function send(options: RequestOptions, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, ...options }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(parts).toString()), res }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const overReactor: RequestOptions['createConnection'] = (opts) =>
  createConnection(reactor, { host: opts.host ?? '127.0.0.1', port: Number(opts.port) }) as never;

describe('node:http over ReactorSocket', () => {
  it('GETs through the createConnection request option', async () => {
    const r = await send({ path: '/hello?x=1', createConnection: overReactor });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ method: 'GET', url: '/hello?x=1', length: 0 });
    expect(r.res.headers['content-type']).toBe('application/json');
  });

  it('POSTs 3 MB byte-exact and reads the reply', async () => {
    const body = randomBytes(3 << 20);
    const r = await send({ method: 'POST', path: '/upload', createConnection: overReactor }, body);
    expect(r.json).toEqual({ method: 'POST', url: '/upload', length: body.length, sha: sha(body) });
  });

  it('serves 50 requests through a keep-alive Agent on 2 reused connections, then leaves no fd behind', async () => {
    const before = openFds();
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    (agent as Agent & { createConnection: typeof overReactor }).createConnection = overReactor;
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => send({ path: `/k${i}`, agent })));
    expect(replies.map((r) => r.json.url)).toEqual(Array.from({ length: 50 }, (_, i) => `/k${i}`));
    expect(connections).toHaveLength(2);
    agent.destroy();
    server.closeAllConnections();
    expect(await fdsChangedSince(before)).toEqual([]);
    expect(reactor.selector.getMap().size).toBe(0);
  });

  // The refusal is read from SO_ERROR, which libkqueue consumes (R4).
  it.skipIf(kqueueLimit(defaultBackend(), 'kqueueEatsSoError'))('fails a request to a closed port with ECONNREFUSED', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await send({ port: deadPort, createConnection: overReactor }).catch((e: NodeJS.ErrnoException) => e);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', port: deadPort });
  });
});
