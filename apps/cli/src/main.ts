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
  outIsTerminal: process.stdout.isTTY === true,
  // A progress bar redrawn in place only where stderr is a terminal; plain lines elsewhere.
  ...(process.stderr.isTTY ? { terminal: { write: (text: string) => void process.stderr.write(text), columns: process.stderr.columns || 80 } } : {}),
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
