// Every route a Fastify app serves, read from `printRoutes({ commonPrefix: false })`, so
// the auth suite covers routes added later (Bull Board's API, /metrics, fleet routes…)
// without anyone having to list them.
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  path: string;
  methods: string[];
}

const LINE = /^((?:│   |    )*)(?:├── |└── )(.+?)(?: \(([^)]*)\))?$/u;

export function listRoutes(app: FastifyInstance): RouteEntry[] {
  const tree = app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: RouteEntry[] = [];
  for (const line of tree.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const segment = match[2] ?? '';
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + segment;
    stack[depth] = path;
    if (match[3]) routes.push({ path, methods: match[3].split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return routes;
}

/** A concrete URL for a route pattern: parameters and wildcards filled with a harmless value. */
export function concrete(path: string): string {
  return path.replace(/:[A-Za-z0-9_]+/g, 'x').replace(/\*/g, 'x');
}
