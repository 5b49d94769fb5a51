// The database hello server on node:net and mysql2's own node:net
// connections, for comparison with examples/hello-db.ts: read once, query
// `SELECT 1` through a pool of 10, answer the value, close.
//   node dist/bench/servers/net-db.js --port 0 --db-port 3306 --user ... --password ...
import mysql from 'mysql2';
import { createServer } from 'node:net';
import { announce, dbServerOptions, replyTo, warmPool } from '../../support/servers.js';

const options = dbServerOptions('bench/servers/net-db.js');
const pool = mysql.createPool(options.pool);
await warmPool(pool, options.pool.connectionLimit!);

const server = createServer((socket) => {
  socket.once('data', () => pool.query('SELECT 1', (err, rows) => socket.end(replyTo(err, rows))));
  socket.on('error', () => socket.destroy());
});
server.listen(options.listenPort, options.listenHost, () => announce(server));
