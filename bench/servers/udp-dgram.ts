// The UDP echo server on node:dgram, for the datagram section of the
// benchmark: every datagram sent back to its sender. Prints
// `listening on HOST:PORT`; exits on SIGINT/SIGTERM.
//   node dist/bench/servers/udp-dgram.js --port 0
import { createSocket } from 'node:dgram';
import { basename } from 'node:path';
import { commandLine, portNumber } from '../../support/options.js';
import { LISTEN_OPTIONS } from '../../support/servers.js';

const script = 'bench/servers/udp-dgram.js';
const cli = commandLine(basename(script, '.js'), `node dist/${script} [options]`, LISTEN_OPTIONS);
const host = cli.values.host;
const port = cli.check(() => portNumber('port', cli.values.port));

const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
socket.on('error', (err) => {
  console.error(err.message);
  process.exit(1);
});
socket.bind(port, host, () => {
  const address = socket.address();
  console.log(`listening on ${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`);
});
const stop = () => {
  socket.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
