// The API reference: every name the package exports, and every public member
// of its classes and interfaces, carries a doc comment (typedoc's own
// validation, configured in typedoc.json); the declarations the package
// ships leave out what the sources mark @internal (stripInternal) and still
// type-check on their own; and every `@example` in the docs compiles against
// those declarations, as a user's code would.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, type ProjectReflection, Logger, LogLevel, TSConfigReader, TypeDocReader } from 'typedoc';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the declarations are emitted, in memory only (never on disk). */
const declDir = join(root, '.api-docs-check', 'lib');
const examplesDir = join(root, '.api-docs-check', 'examples');

/** Collects typedoc's messages instead of printing them. */
class CollectingLogger extends Logger {
  readonly messages: Array<{ level: LogLevel; message: string }> = [];
  override log(message: string, level: LogLevel): void {
    this.messages.push({ level, message });
  }
}

async function typedocProject(): Promise<{ project: ProjectReflection; warnings: string[] }> {
  // typedoc.json and lib/tsconfig.json, not the command line (vitest's).
  const app = await Application.bootstrapWithPlugins({ emit: 'none', options: join(root, 'typedoc.json') }, [
    new TypeDocReader(),
    new TSConfigReader(),
  ]);
  const logger = new CollectingLogger();
  app.logger = logger;
  const project = await app.convert();
  if (project === undefined) throw new Error(`typedoc failed: ${logger.messages.map((m) => m.message).join('\n')}`);
  app.validate(project);
  const warnings = logger.messages.filter((m) => m.level >= LogLevel.Warn).map((m) => m.message);
  return { project, warnings };
}

// ---- the declarations, as `tsc -b lib` emits them

function libConfig(): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'lib', 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (parsed === undefined) throw new Error('cannot read lib/tsconfig.json');
  return parsed;
}

/** The lib's .d.ts files, keyed by path under declDir. */
function emitDeclarations(config: ts.ParsedCommandLine): { program: ts.Program; files: Map<string, string> } {
  const options: ts.CompilerOptions = {
    ...config.options,
    outDir: declDir,
    rootDir: join(root, 'lib'),
    declaration: true,
    emitDeclarationOnly: true,
    noEmit: false,
    composite: false,
    incremental: false,
    declarationMap: false,
    sourceMap: false,
  };
  delete options.tsBuildInfoFile;
  const program = ts.createProgram(config.fileNames, options);
  const files = new Map<string, string>();
  const result = program.emit(undefined, (name, text) => {
    if (name.endsWith('.d.ts')) files.set(resolve(name), text);
  });
  const errors = result.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (errors.length > 0) throw new Error(`declaration emit failed:\n${errors.join('\n')}`);
  return { program, files };
}

function isInternal(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
}

function nameOf(node: ts.Node): string | undefined {
  const name = (node as { name?: ts.Node }).name;
  if (name === undefined) return ts.isConstructorDeclaration(node) ? 'constructor' : undefined;
  return ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) ? name.text : name.getText();
}

/** Every declaration of a file as 'Name' (top level) or 'Container.member',
 * each with whether it is tagged @internal. */
function declarations(file: ts.SourceFile): Array<{ name: string; internal: boolean }> {
  const out: Array<{ name: string; internal: boolean }> = [];
  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        out.push({ name: d.name.getText(file), internal: isInternal(statement) });
      }
      continue;
    }
    const name = nameOf(statement);
    if (name === undefined) continue;
    out.push({ name, internal: isInternal(statement) });
    if (ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement)) {
      for (const member of statement.members) {
        const memberName = nameOf(member);
        if (memberName !== undefined) out.push({ name: `${name}.${memberName}`, internal: isInternal(member) });
      }
    }
  }
  return out;
}

// ---- the examples

/** The ```ts blocks of every @example in the reference, once each. */
function examples(project: ProjectReflection): Array<{ where: string; code: string }> {
  const seen = new Set<string>();
  const out: Array<{ where: string; code: string }> = [];
  for (const reflection of Object.values(project.reflections)) {
    for (const tag of reflection.comment?.blockTags ?? []) {
      if (tag.tag !== '@example') continue;
      const text = tag.content.map((part) => part.text).join('');
      for (const match of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
        const code = match[1]!;
        if (seen.has(code)) continue;
        seen.add(code);
        out.push({ where: reflection.getFriendlyFullName(), code });
      }
    }
  }
  return out;
}

// What the fragments take as given: a reactor, a selector, an fd, a buffer.
const GIVEN = `import type { BaseSelector, Reactor } from 'node-selectors';
declare global {
  var reactor: Reactor;
  var selector: BaseSelector;
  var fd: number;
  var buf: Uint8Array;
}
export {};
`;

/** An example as a module: it imports what it uses of the package, unless
 * it does so itself. */
function exampleModule(code: string, exported: string[]): string {
  const own = new Set<string>();
  for (const m of code.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'node-selectors'/g)) {
    for (const name of m[1]!.split(',')) own.add(name.trim().replace(/^type\s+/, ''));
  }
  for (const m of code.matchAll(/^(?:const|let|var|function\*?|class)\s+(\w+)/gm)) own.add(m[1]!);
  const missing = [...new Set(exported)].filter((name) => !own.has(name));
  return `import { ${missing.join(', ')} } from 'node-selectors';\n${code}\nexport {};\n`;
}

/** Type-checks the declarations on their own (skipLibCheck off) and the
 * examples against them; returns the diagnostics of those files. */
function checkDeclarationsAndExamples(config: ts.ParsedCommandLine, declFiles: Map<string, string>, exampleFiles: Map<string, string>): string[] {
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    skipLibCheck: false,
    composite: false,
    incremental: false,
    declaration: false,
    noUnusedLocals: false,
  };
  delete options.tsBuildInfoFile;
  delete options.outDir;
  delete options.rootDir;
  const memory = new Map([...declFiles, ...exampleFiles]);
  const host = ts.createCompilerHost(options);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => memory.has(resolve(name)) || fileExists(name);
  host.readFile = (name) => memory.get(resolve(name)) ?? readFile(name);
  const directoryExists = host.directoryExists?.bind(host);
  const virtualDir = join(root, '.api-docs-check');
  host.directoryExists = (name) => {
    const dir = resolve(name);
    return dir === virtualDir || dir.startsWith(virtualDir + '/') || (directoryExists?.(name) ?? ts.sys.directoryExists(name));
  };
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const text = memory.get(resolve(name));
    return text !== undefined ? ts.createSourceFile(name, text, languageVersion, true) : getSourceFile(name, languageVersion, onError, shouldCreate);
  };
  const index = join(declDir, 'index.d.ts');
  host.resolveModuleNameLiterals = (literals, containingFile, _redirect, opts) =>
    literals.map((literal) =>
      literal.text === 'node-selectors'
        ? { resolvedModule: { resolvedFileName: index, extension: ts.Extension.Dts, isExternalLibraryImport: false } }
        : ts.resolveModuleName(literal.text, containingFile, opts, host),
    );
  const program = ts.createProgram([...memory.keys()], options, host);
  // Only these files: checking all of @types/node as well would triple the time.
  const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const file of program.getSourceFiles()) {
    if (!memory.has(resolve(file.fileName))) continue;
    diagnostics.push(...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file));
  }
  return diagnostics
    .map((d) => {
      const where = d.file ? `${relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      return `${where} ${text}${d.file && exampleFiles.has(resolve(d.file.fileName)) ? `\n${d.file.text}` : ''}`;
    });
}

describe('API reference', () => {
  let project: ProjectReflection;
  let warnings: string[];
  let config: ts.ParsedCommandLine;
  let emitted: { program: ts.Program; files: Map<string, string> };

  beforeAll(async () => {
    ({ project, warnings } = await typedocProject());
    config = libConfig();
    emitted = emitDeclarations(config);
  }, 60_000);

  it('documents every export and public member (typedoc validation: notDocumented, notExported, invalidLink)', () => {
    expect(project.children?.length ?? 0).toBeGreaterThan(50);
    const undocumented = warnings.filter((w) => w.includes('does not have any documentation'));
    expect(undocumented, `undocumented:\n${undocumented.join('\n')}`).toEqual([]);
    expect(warnings, warnings.join('\n')).toEqual([]);
  });

  it('leaves every @internal declaration out of the shipped .d.ts files', () => {
    expect(config.options.stripInternal, 'lib/tsconfig.json sets stripInternal').toBe(true);
    const internal: string[] = [];
    const leaked: string[] = [];
    for (const source of emitted.program.getSourceFiles()) {
      const rel = relative(join(root, 'lib'), source.fileName);
      if (rel.startsWith('..') || source.isDeclarationFile) continue;
      const names = declarations(source).filter((d) => d.internal).map((d) => d.name);
      if (names.length === 0) continue;
      const dts = emitted.files.get(join(declDir, rel.replace(/\.ts$/, '.d.ts')));
      expect(dts, `the declarations of lib/${rel}`).toBeDefined();
      const shipped = new Set(declarations(ts.createSourceFile(rel, dts!, ts.ScriptTarget.Latest, true)).map((d) => d.name));
      for (const name of names) {
        internal.push(`lib/${rel}: ${name}`);
        if (shipped.has(name)) leaked.push(`lib/${rel}: ${name}`);
      }
    }
    // The sources do mark internals, so the check has something to check.
    expect(internal.length).toBeGreaterThan(5);
    expect(leaked, `@internal yet in the .d.ts:\n${leaked.join('\n')}`).toEqual([]);
    const all = [...emitted.files.values()].join('\n');
    expect(all).not.toMatch(/\bfdWaiters\b/);
  });

  it('ships declarations that type-check alone, and @example code that compiles against them', () => {
    const exported = (project.children ?? []).map((c) => c.name);
    const found = examples(project);
    expect(found.length).toBeGreaterThan(10);
    const exampleFiles = new Map<string, string>([[join(examplesDir, 'given.ts'), GIVEN]]);
    found.forEach((example, i) => {
      exampleFiles.set(join(examplesDir, `${i}-${example.where.replace(/[^\w.]+/g, '_')}.ts`), exampleModule(example.code, exported));
    });
    const problems = checkDeclarationsAndExamples(config, emitted.files, exampleFiles);
    expect(problems, problems.join('\n\n')).toEqual([]);
  });
});
