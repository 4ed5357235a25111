// The floor under `wattbridge --help`: an ES module that loads commander the
// way js/cli/main.js does and prints the help of a one-command program.
// `npm run bench` times it against a bare `node -e 0`, next to the CLI.
import { createRequire } from 'node:module';

const { Command } = createRequire(import.meta.url)('commander');
new Command().name('floor').command('only').description('the one command').parent.parse(['node', 'floor', '--help']);
