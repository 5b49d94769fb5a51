// The hand-written UDP echo server over sys and a selector, for the datagram
// section of the benchmark: each time the socket is readable it drains it,
// recvfrom until it would block, and sends every datagram back to its sender
// with sendto. A reply the kernel cannot take at once (-1: the send buffer is
// full) is dropped, as bench/c/udp_echo.c does; the load generator counts
// what never came back. Prints `listening on HOST:PORT`; exits on
// SIGINT/SIGTERM.
//   node dist/bench/servers/udp-echo.js --port 0 [--backend epoll]
import { basename } from 'node:path';
import { EVENT_READ, sys } from '../../lib/index.js';
import { commandLine, portNumber } from '../../support/options.js';
import { backendClass, backendOption, LISTEN_OPTIONS } from '../../support/servers.js';

const script = 'bench/servers/udp-echo.js';
const cli = commandLine(basename(script, '.js'), `node dist/${script} [options]`, {
  ...LISTEN_OPTIONS,
  backend: backendOption('the'),
});
const host = cli.values.host;
const port = cli.check(() => portNumber('port', cli.values.port));
const Selector = backendClass(cli.values.backend, cli.fail);

const fd = sys.socket(host.includes(':') ? sys.AF_INET6 : sys.AF_INET, sys.SOCK_DGRAM);
sys.bind(fd, host, port);
const bound = sys.getsockname(fd);
const selector = new Selector();
selector.register(fd, EVENT_READ);
console.log(`listening on ${host.includes(':') ? `[${host}]` : host}:${'port' in bound ? bound.port : port}`);

let running = true;
const stop = () => {
  running = false;
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

const buf = new Uint8Array(65536);
let dropped = 0;
// selectRaw() allocates nothing (one fd is registered: a count > 0 means it
// is readable). A wait that blocks with no limit would keep a signal's
// listener from running: wait at most 200 ms, then let Node's loop in.
function serve(): void {
  for (let pass = 0; pass < 1000 && running; pass++) {
    if (selector.selectRaw(200) === 0) break;
    for (;;) {
      const got = sys.recvfrom(fd, buf);
      if (got === null) break;
      const peer = got.address;
      if (peer === null || !('port' in peer)) continue;
      if (sys.sendto(fd, buf.subarray(0, got.bytes), peer.address, peer.port) === -1) dropped++;
    }
  }
  if (running) setImmediate(serve);
  else {
    selector.close();
    sys.close(fd);
    if (dropped > 0) console.error(`udp-echo: ${dropped} replies dropped (send buffer full)`);
    process.exit(0);
  }
}
serve();
