// The CLI's client types (apps/cli/src/generated/api.ts) are generated from the API's own
// OpenAPI document: this fails while the checked-in file differs from what the API serves
// now. Fix: `npm run openapi:types`, then `npm run typecheck` shows what the CLI must follow.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiOpenApi, generatedTypes, GENERATED } from '../../scripts/openapi-types.js';

describe('apps/cli/src/generated/api.ts', () => {
  it('is current with the OpenAPI document of the API', async () => {
    const document = await apiOpenApi();
    expect(Object.keys(document.paths as object)).toEqual(expect.arrayContaining(['/provisioner', '/jobs/{id}', '/reset', '/cleanup', '/sync', '/schedules']));
    expect(await generatedTypes(document), 'stale: run `npm run openapi:types`').toBe(readFileSync(GENERATED, 'utf8'));
  });

  it('describes the API as it is, not its history (no old service, issue or commit in the text)', async () => {
    const text = JSON.stringify(await apiOpenApi());
    expect(text.match(/.{0,40}(\bold (service|synchronous|deployment|code)|\bissue \d+|\bcommit [0-9a-f]{7}|\bFlask\b|\blegacy\b).{0,40}/gi) ?? []).toEqual([]);
  });
});
