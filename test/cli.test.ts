// Every program of the package (the examples, the benchmarks and the servers
// they compare, from dist/ as npm runs them) behaves as a command-line tool:
// --help prints the usage, every option on a line of its own with an
// explanation, and exits 0 having started nothing; an unknown option, or a
// bad value, gets one line naming it, then the usage, and exit 2, with no
// stack trace. The table below is checked against the sources and
// package.json, so that a new program cannot be left out.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Program {
  /** The compiled program, under dist/. */
  file: string;
  /** Every option it takes, --help aside. */
  options: string[];
  /** A bad value of one of them (`--name VALUE` or `--name=VALUE`), refused with exit 2. */
  bad: string[];
}

const PROGRAMS: Program[] = [
  { file: 'examples/hello.js', options: ['backend', 'host', 'port', 'trigger', 'keep-alive'], bad: ['--port', 'abc'] },
  {
    file: 'examples/hello-reactor.js',
    options: ['style', 'host', 'port', 'workers', 'idle-timeout', 'keep-alive', 'backend', 'worker'],
    bad: ['--workers', '0'],
  },
  { file: 'examples/echo-reactor.js', options: ['host', 'port', 'idle-timeout'], bad: ['--port', '65536'] },
  { file: 'examples/chat-reactor.js', options: ['host', 'port', 'idle-timeout'], bad: ['--idle-timeout', '-1'] },
  {
    file: 'examples/hello-db.js',
    options: ['host', 'port', 'db-host', 'db-port', 'user', 'password', 'database', 'pool', 'backend', 'start-db'],
    bad: ['--db-port', 'abc'],
  },
  { file: 'bench/charts.js', options: ['input'], bad: ['--input', 'bench/results/no-such-report.json'] },
  { file: 'bench/diff.js', options: ['first', 'second', 'tolerance'], bad: ['--first', 'bench/results/no-such-report.json', '--second', 'x.json'] },
  {
    file: 'bench/run.js',
    options: [
      'quick',
      'loadgen',
      'servers',
      'requests',
      'runs',
      'max-rounds',
      'quiet',
      'quiet-wait',
      'concurrency',
      'warmup',
      'skip-micro',
      'skip-pingpong',
      'skip-servers',
      'skip-dgram',
      'skip-db',
      'skip-keepalive',
      'keepalive-seconds',
      'keepalive-connections',
      'keepalive-delay',
      'rate',
      'same-process',
      'only',
      'clock',
      'extra',
    ],
    bad: ['--runs', 'x'],
  },
  { file: 'bench/servers/net-minimal.js', options: ['host', 'port', 'keep-alive'], bad: ['--port', 'abc'] },
  { file: 'bench/db.js', options: ['requests', 'runs', 'warmup', 'concurrency', 'loadgen', 'servers'], bad: ['--loadgen', 'wrk'] },
  { file: 'bench/workers.js', options: ['rounds', 'duration', 'warmup', 'concurrency', 'style', 'quick'], bad: ['--style', 'nonesuch'] },
  { file: 'bench/micro.js', options: ['quick', 'json', 'backends'], bad: ['--json=yes'] },
  { file: 'bench/pingpong.js', options: ['round-trips', 'rounds', 'cpu', 'backend', 'transport', 'child'], bad: ['--transport', 'carrier-pigeon'] },
  { file: 'bench/soak.js', options: ['seconds', 'clients', 'server', 'style'], bad: ['--seconds', '5'] },
  { file: 'bench/soak-load.js', options: ['target', 'target-port', 'clients', 'seconds', 'ramp'], bad: ['--target', 'nonesuch'] },
  { file: 'bench/dgram.js', options: ['count', 'rounds', 'window', 'size', 'backends', 'quiet', 'same-process'], bad: ['--size', '70000'] },
  { file: 'bench/servers/net.js', options: ['host', 'port', 'keep-alive'], bad: ['--port', 'abc'] },
  { file: 'bench/servers/udp-echo.js', options: ['host', 'port', 'backend'], bad: ['--port', '65536'] },
  { file: 'bench/servers/udp-dgram.js', options: ['host', 'port'], bad: ['--port', 'abc'] },
  { file: 'bench/servers/http.js', options: ['host', 'port', 'keep-alive'], bad: ['--port', '-1'] },
  {
    file: 'bench/servers/net-db.js',
    options: ['host', 'port', 'db-host', 'db-port', 'user', 'password', 'database', 'pool'],
    bad: ['--pool', '0'],
  },
  {
    file: 'bench/servers/http-db.js',
    options: ['host', 'port', 'db-host', 'db-port', 'user', 'password', 'database', 'pool'],
    bad: ['--port', 'abc'],
  },
];

function run(file: string, args: string[]) {
  const result = spawnSync(process.execPath, [`${root}dist/${file}`, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** The option lines of a usage: `--name` (and its value's name) first. */
function optionLines(usage: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const m of usage.matchAll(/^ {2}--([a-z][a-z-]*)(?: \S+)?  +(.*)$/gm)) lines.set(m[1]!, m[2]!);
  return lines;
}

/** The first line of a refusal, and that no stack trace followed. */
function expectRefusal(out: ReturnType<typeof run>, named: string): void {
  expect(out.code, out.stderr).toBe(2);
  const [first, ...rest] = out.stderr.split('\n');
  expect(first).toContain(named);
  expect(first).toMatch(/^[\w:-]+: /);
  expect(rest.join('\n')).toMatch(/^Usage: /);
  expect(out.stderr).not.toMatch(/^ {4}at /m);
  expect(out.stdout).toBe('');
}

describe.each(PROGRAMS)('$file', ({ file, options, bad }) => {
  it('--help prints every option with an explanation and exits 0', () => {
    const out = run(file, ['--help']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/^Usage: /);
    const lines = optionLines(out.stdout);
    expect([...lines.keys()].sort()).toEqual([...options, 'help'].sort());
    for (const [name, text] of lines) expect(text.length, `--${name}`).toBeGreaterThan(10);
    // An option that takes a value says what it is when not given.
    for (const m of out.stdout.matchAll(/^ {2}--([a-z-]+) [A-Z].*$/gm)) expect(m[0], `--${m[1]}`).toMatch(/\((default: .+|required)\)$/);
  });

  it('an unknown option: one line naming it, the usage, exit 2', () => {
    expectRefusal(run(file, ['--no-such-option']), '--no-such-option');
  });

  it(`a bad value (${bad.join(' ')}): one line naming it, the usage, exit 2`, () => {
    expectRefusal(run(file, bad), bad[0]!.split('=')[0]!);
  });
});

describe('one vocabulary', () => {
  const listeners = PROGRAMS.filter((p) => p.options.includes('port'));

  it('--port is always the port the program listens on', () => {
    expect(listeners.map((p) => p.file)).toEqual(expect.arrayContaining(['examples/hello-db.js', 'bench/servers/net-db.js', 'examples/hello.js']));
    for (const { file } of listeners) expect(optionLines(run(file, ['--help']).stdout).get('port'), file).toMatch(/^port to listen on/);
  });

  it("hello-db names the database's port --db-port and no longer takes --listen-port", () => {
    const lines = optionLines(run('examples/hello-db.js', ['--help']).stdout);
    expect(lines.get('db-port')).toMatch(/database.*\(default: 3306\)/);
    expect(lines.get('port')).toMatch(/listen.*\(default: 8000\)/);
    expectRefusal(run('examples/hello-db.js', ['--listen-port', '0']), '--listen-port');
  });

  it('a backend this machine does not have is refused by name (hello, micro)', () => {
    expectRefusal(run('examples/hello.js', ['--backend', 'nonesuch']), 'nonesuch');
    expectRefusal(run('bench/micro.js', ['--backends', 'nonesuch']), '--backends');
  });

  it("bench refuses a quiet threshold that is not a share of a core, or a wait that is not a time", () => {
    for (const bad of [['--quiet', '101'], ['--quiet', '-1'], ['--quiet', ''], ['--quiet-wait', 'soon'], ['--max-rounds', '0']]) {
      expectRefusal(run('bench/run.js', bad), bad[0]!);
    }
  });

  it('bench refuses a rate or a keep-alive delay that is not a whole number >= 0, and a rate for a load generator that cannot pace', () => {
    for (const bad of [['--rate', '-5'], ['--rate', '1.5'], ['--keepalive-delay', 'soon'], ['--keepalive-delay', '-1']]) {
      expectRefusal(run('bench/run.js', bad), bad[0]!);
    }
    expectRefusal(run('bench/run.js', ['--rate', '1000', '--loadgen', 'ab']), '--rate');
  });

  it('npm scripts are named in one style (words joined by colons)', () => {
    const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of Object.keys(scripts)) expect(name).toMatch(/^[a-z]+(:[a-z]+)*$/);
    expect(scripts['hello:db']).toBe('node dist/examples/hello-db.js');
  });
});

describe('the table', () => {
  const listed = new Set(PROGRAMS.map((p) => p.file));

  it('holds every program of examples/ and bench/', () => {
    const programs: string[] = [];
    for (const dir of ['examples', 'bench', 'bench/servers', 'bench/lib']) {
      for (const name of readdirSync(`${root}${dir}`).filter((f) => f.endsWith('.ts'))) {
        const source = readFileSync(`${root}${dir}/${name}`, 'utf8');
        // A program exports nothing, or runs its main when started itself.
        if (!/^export /m.test(source) || /process\.argv\[1\]/.test(source)) programs.push(`${dir}/${name.replace(/\.ts$/, '.js')}`);
      }
    }
    expect(programs).toContain('bench/micro.js');
    expect(programs).not.toContain('examples/kept-connections.js');
    for (const program of programs) expect(listed, program).toContain(program);
  });

  it('holds every program package.json scripts run', () => {
    const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
    const started = Object.values(scripts).flatMap((s) => [...s.matchAll(/\bnode dist\/(\S+\.js)/g)].map((m) => m[1]!));
    expect(started.length).toBeGreaterThanOrEqual(9);
    for (const program of started) expect(listed, program).toContain(program);
  });
});
