import type { PGlite } from '@electric-sql/pglite';

/**
 * A pg-Pool-shaped adapter so Kysely's PostgresDialect runs on PGlite.
 * PGlite is a single session, so one connection is handed out at a time: otherwise a Kysely
 * transaction would absorb queries from concurrent requests.
 */
export class PGliteSession {
  readonly pglite: PGlite;
  #tail: Promise<void> = Promise.resolve();

  constructor(pglite: PGlite) {
    this.pglite = pglite;
  }

  /** Waits for exclusive use of the session; call the returned function to give it back. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** The pool Kysely's PostgresDialect expects. */
  pool() {
    const session = this;
    return {
      async connect() {
        const release = await session.acquire();
        return {
          async query(text: string, params: readonly unknown[] = []) {
            const result = await session.pglite.query(text, params as unknown[]);
            return {
              command: commandOf(text),
              rowCount: result.affectedRows ?? result.rows.length,
              rows: result.rows,
            };
          },
          release,
        };
      },
      async end() {},
    };
  }
}

function commandOf(text: string): 'INSERT' | 'UPDATE' | 'DELETE' | 'MERGE' | 'SELECT' {
  const word = /^\s*(?:with\b[\s\S]*?\)\s*)?(\w+)/i.exec(text)?.[1]?.toUpperCase();
  return word === 'INSERT' || word === 'UPDATE' || word === 'DELETE' || word === 'MERGE' ? word : 'SELECT';
}
