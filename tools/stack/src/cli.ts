import { ensureStack, formatEnv, readStackEnv, stackStatus, stopStack } from './stack.js';

const usage = 'usage: stack <up|down [--wipe]|status|env>';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      await ensureStack();
      return 0;
    case 'down': {
      const wipe = rest.includes('--wipe');
      const stopped = await stopStack({ wipe });
      if (stopped.length === 0) console.error('[stack] nothing of the stack was running');
      return 0;
    }
    case 'status': {
      const status = await stackStatus();
      for (const s of status) {
        const state = s.ready ? 'ready' : s.running ? 'running, NOT ready' : 'stopped';
        console.log(`${s.name.padEnd(24)} ${state.padEnd(19)} ${s.pid ? `pid ${s.pid}`.padEnd(11) : ''.padEnd(11)} ${s.where ?? ''}`);
      }
      return status.every((s) => s.ready) ? 0 : 1;
    }
    case 'env':
      process.stdout.write(formatEnv(readStackEnv()));
      return 0;
    default:
      console.error(usage);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[stack] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
