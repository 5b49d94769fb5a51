// The command-line options every database hello server shares (this example
// and the comparison servers under bench/): --host/--port/--user/--password/
// --database name the database; the HTTP server listens on --listen-host and
// --listen-port; --pool connections are opened.
export const DB_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '3306' },
  user: { type: 'string', default: 'root' },
  password: { type: 'string', default: '' },
  database: { type: 'string', default: '' },
  'listen-host': { type: 'string', default: '127.0.0.1' },
  'listen-port': { type: 'string', default: '8000' },
  pool: { type: 'string', default: '10' },
} as const;

/** A TCP port from an option's text, or a RangeError naming the option. */
export function portNumber(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad ${name}: ${value}`);
  return port;
}
