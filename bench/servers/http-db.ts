// The database hello server on node:http and mysql2's own node:net
// connections, for comparison with examples/hello-db.ts: query `SELECT 1`
// through a pool of 10, answer the value, close (ab speaks HTTP/1.0).
//   node dist/bench/servers/http-db.js --port 0 --db-port 3306 --user ... --password ...
import mysql from 'mysql2';
import { createServer } from 'node:http';
import { announce, dbServerOptions, warmPool } from '../../support/servers.js';

const options = dbServerOptions('bench/servers/http-db.js');
const pool = mysql.createPool(options.pool);
await warmPool(pool, options.pool.connectionLimit!);

const server = createServer((_req, res) => {
  pool.query('SELECT 1', (err, rows) => {
    const row = (rows as unknown[][] | undefined)?.[0];
    if (err || row === undefined) {
      res.writeHead(502, { 'Content-Length': 0 }).end();
      return;
    }
    const body = String(row[0]);
    res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
});
server.listen(options.listenPort, options.listenHost, () => announce(server));
