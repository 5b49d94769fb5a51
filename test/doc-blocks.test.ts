// Every code block of README.md and docs/*.md runs as shown. Each ```ts (or
// ```js) block is a whole program: they are written out to
// dist/doc-blocks/src/, type-checked together by one strict tsc run (the
// project's own compiler options, as a user's strict project would), and
// each is then run with node (even when the type-check failed, so that both
// verdicts are seen) and must exit 0 by itself within a time limit.
// They import the package by its name, 'node-selectors', which Node and
// TypeScript resolve to this package itself (self-reference through
// package.json "exports": dist/lib, so `npx tsc -b` must have run, as
// `npm test` does first).
//
// Shell blocks (```sh) are not run, but what they name must exist: every
// `npm run NAME` a script of package.json, every `node dist/X.js` a source
// X.ts, every `bash scripts/X` a file. Output is shown in ```text blocks; a
// fence of any other language (or none) fails, so that no code hides from
// this test. Relative links must name files that exist, and no page copies
// benchmark figures (those live in bench/results/latest.md alone).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = join(root, 'dist', 'doc-blocks');
const RUN_TIMEOUT_MS = 20_000;
const LANGUAGES = new Set(['ts', 'js', 'sh', 'text']);

interface Block {
  page: string;
  line: number; // of the opening fence, 1-based
  lang: string;
  code: string;
}

const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

/** The fenced blocks of a Markdown page, indented ones (in lists) included. */
function fencedBlocks(page: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(Math.min(indent, lines[i]!.search(/\S|$/))));
    if (i === lines.length) throw new Error(`${page}:${start + 1}: unclosed code fence`);
    blocks.push({ page, line: start + 1, lang: open[2]!.trim(), code: body.join('\n') + '\n' });
  }
  return blocks;
}

const blocks = pages.flatMap((page) => fencedBlocks(page, readFileSync(join(root, page), 'utf8')));
const programs = blocks.filter((b) => b.lang === 'ts' || b.lang === 'js');
const fileOf = (b: Block) => `${b.page.replace(/[/.]/g, '_')}_${b.line}.ts`;
const where = (b: Block) => `${b.page}:${b.line}`;

describe('doc code blocks', () => {
  it('README.md and docs/*.md have code blocks, each fenced with a language this test knows', () => {
    expect(programs.filter((b) => b.page === 'README.md').length).toBeGreaterThan(0);
    expect(programs.filter((b) => b.page.startsWith('docs/')).length).toBeGreaterThan(0);
    expect(blocks.filter((b) => !LANGUAGES.has(b.lang)).map((b) => `${where(b)}: \`\`\`${b.lang}`)).toEqual([]);
  });

  describe('every ts/js block compiles under strict TypeScript and runs to exit 0 on its own', () => {
    let compileErrors = '';
    beforeAll(() => {
      if (!existsSync(join(root, 'dist', 'lib', 'index.js')) || !existsSync(join(root, 'dist', 'lib', 'index.d.ts'))) {
        throw new Error('dist/lib is not built: run `npx tsc -b` first (npm test does)');
      }
      rmSync(work, { recursive: true, force: true });
      mkdirSync(join(work, 'src'), { recursive: true });
      for (const b of programs) writeFileSync(join(work, 'src', fileOf(b)), b.code);
      writeFileSync(
        join(work, 'tsconfig.json'),
        JSON.stringify({
          extends: '../../tsconfig.base.json',
          compilerOptions: { rootDir: 'src', outDir: 'out', declaration: false, sourceMap: false, moduleDetection: 'force' },
          include: ['src/*.ts'],
        }),
      );
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      const r = spawnSync(process.execPath, [tsc, '-p', join(work, 'tsconfig.json'), '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
      // Name each error by the page and line it comes from.
      const byFile = new Map(programs.map((b) => [fileOf(b), b]));
      compileErrors = (r.stdout + r.stderr).replace(/(?:dist\/doc-blocks\/)?src\/([^(]+\.ts)\((\d+),(\d+)\)/g, (all, file: string, line: string) => {
        const b = byFile.get(file);
        return b ? `${b.page}:${b.line + Number(line)}` : all;
      });
      if (r.status !== 0 && compileErrors === '') compileErrors = `tsc exited with ${r.status}`;
    }, 120_000);

    it('the blocks type-check together (strict, nodenext, types node)', () => {
      expect(compileErrors).toBe('');
    });

    it.each(programs.map((b) => [where(b), b] as const))('%s runs', async (_, b) => {
      const script = join(work, 'out', fileOf(b).replace(/\.ts$/, '.js'));
      const { status, output } = await runNode(script);
      expect(status, `${where(b)} exited with ${status}:\n${output}`).toBe(0);
    }, RUN_TIMEOUT_MS + 5_000);
  });

  describe('shell blocks name what exists', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const shell = blocks.filter((b) => b.lang === 'sh');

    it('every `npm run NAME` is a script of package.json', () => {
      const missing = shell.flatMap((b) => [...b.code.matchAll(/npm run ([\w:.-]+)/g)].filter((m) => !(m[1]! in pkg.scripts)).map((m) => `${where(b)}: npm run ${m[1]}`));
      expect(missing).toEqual([]);
    });

    it('every `node dist/X.js` has its source X.ts, every `bash scripts/X` exists', () => {
      const missing = shell.flatMap((b) => [
        ...[...b.code.matchAll(/node (?:\S+ )*?dist\/(\S+)\.js/g)].filter((m) => !existsSync(join(root, `${m[1]}.ts`))).map((m) => `${where(b)}: ${m[0]}`),
        ...[...b.code.matchAll(/bash (scripts\/\S+)/g)].filter((m) => !existsSync(join(root, m[1]!))).map((m) => `${where(b)}: ${m[0]}`),
      ]);
      expect(missing).toEqual([]);
    });
  });

  it('every relative link of README.md and docs/*.md names a file (and heading) that exists', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(root, page), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s#]*)(?:#([^)\s]*))?\)/g)) {
        const [, target = '', anchor] = m;
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        if (target.endsWith('api/index.html')) continue; // made by `npm run docs`
        const file = target === '' ? join(root, page) : join(root, dirname(page), target);
        if (!existsSync(file)) broken.push(`${page}: ${target}`);
        else if (anchor !== undefined && file.endsWith('.md') && !headingAnchors(readFileSync(file, 'utf8')).has(anchor)) broken.push(`${page}: ${target}#${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('no page copies a table of benchmark figures (they are bench/results/latest.md alone)', () => {
    const copied: string[] = [];
    for (const page of pages) {
      readFileSync(join(root, page), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\|.*(µs|requests\/s|round trips\/s|× C)/.test(line)) copied.push(`${page}:${i + 1}: ${line.slice(0, 80)}`);
        });
    }
    expect(copied).toEqual([]);
  });
});

/** The anchors GitHub gives a page's headings. */
function headingAnchors(text: string): Set<string> {
  const slugs = [...text.matchAll(/^#{1,6} +(.+)$/gm)].map((m) =>
    m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'),
  );
  return new Set(slugs);
}

function runNode(script: string): Promise<{ status: number | string | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n(killed after ${RUN_TIMEOUT_MS} ms: a block must end by itself)`;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? signal, output });
    });
  });
}
