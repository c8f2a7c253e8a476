#!/usr/bin/env node
import { createInterface } from 'node:readline/promises';
import { getGlobalDispatcher } from 'undici';
import { run } from './cli.js';

/** The `provisioner` bin. */
const code = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  interactive: process.stdin.isTTY === true,
  async confirm(question) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  },
});
// Idle keep-alive sockets would hold the process open for seconds.
await getGlobalDispatcher().close();
process.exitCode = code;
