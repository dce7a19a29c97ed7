import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

/**
 * The layering rules of src/ (README "Architecture"), checked on every run: dependencies between
 * folders point one way, platform/ names no domain, production code never imports tests, files stay
 * small. Test files (`*.test.ts`, `*.contract.ts`) may import anything.
 */
const SRC = import.meta.dirname;
const MAX_LINES = 400;

interface SourceFile {
  /** Relative to src/: `catalog/video-service.ts`. */
  file: string;
  text: string;
}

function productionFiles(dir = SRC): SourceFile[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return productionFiles(full);
    if (!entry.name.endsWith('.ts') || /\.(test|contract)\.ts$/.test(entry.name)) return [];
    return [{ file: path.relative(SRC, full), text: fs.readFileSync(full, 'utf8') }];
  });
}

/** Relative imports of a file (static and dynamic), resolved against src/. */
export function importsOf(source: SourceFile): string[] {
  const specifiers = [...source.text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((specifier) => path.normalize(path.join(path.dirname(source.file), specifier)));
}

/** A file's unit: its top-level folder (`catalog`), or the file itself at the root (`app.ts`). */
export function unitOf(file: string): string {
  const [first, ...rest] = file.split(path.sep);
  return rest.length > 0 ? first! : file;
}

/** Every cycle of the unit graph, as one strongly connected component (Tarjan) of two or more units. */
export function cyclesOf(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (unit: string) => {
    indices.set(unit, index);
    low.set(unit, index++);
    stack.push(unit);
    for (const next of edges.get(unit) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(unit, Math.min(low.get(unit)!, low.get(next)!));
      } else if (stack.includes(next)) low.set(unit, Math.min(low.get(unit)!, indices.get(next)!));
    }
    if (low.get(unit) === indices.get(unit)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        component.push(member);
      } while (member !== unit);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const unit of edges.keys()) if (!indices.has(unit)) visit(unit);
  return cycles;
}

function unitGraph(files: SourceFile[]): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const source of files) {
    const from = unitOf(source.file);
    const targets = edges.get(from) ?? new Set<string>();
    edges.set(from, targets);
    for (const target of importsOf(source)) {
      const to = unitOf(target);
      if (to !== from && !target.startsWith('..')) targets.add(to);
    }
  }
  return edges;
}

describe('architecture', () => {
  const files = productionFiles();

  test('the cycle finder finds cycles (self-check)', () => {
    const edges = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    assert.deepEqual(cyclesOf(edges), [['a', 'b', 'c']]);
    assert.deepEqual(cyclesOf(new Map([['a', new Set(['b'])]])), []);
  });

  test('no cycle between folders (dependencies point one way)', () => {
    assert.deepEqual(cyclesOf(unitGraph(files)), []);
  });

  test('platform/ imports nothing outside platform/', () => {
    const upward = files
      .filter((source) => unitOf(source.file) === 'platform')
      .flatMap((source) =>
        importsOf(source)
          .filter((target) => unitOf(target) !== 'platform')
          .map((target) => `${source.file} → ${target}`),
      );
    assert.deepEqual(upward, []);
  });

  test('production code never imports test code', () => {
    const offending = files.flatMap((source) =>
      importsOf(source)
        .filter((target) => target.startsWith('..') || /\.(test|contract)\.ts$/.test(target))
        .map((target) => `${source.file} → ${target}`),
    );
    assert.deepEqual(offending, []);
  });

  test(`every production file has at most ${MAX_LINES} lines`, () => {
    const long = files
      .map((source) => ({ file: source.file, lines: source.text.split('\n').length }))
      .filter((entry) => entry.lines > MAX_LINES);
    assert.deepEqual(long, []);
  });
});
