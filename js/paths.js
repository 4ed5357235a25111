// Where the CLI and the Node default store keep things. WATTBRIDGE_HOME moves
// everything (tests and scripts rely on it); otherwise the platform's places
// ($XDG_CONFIG_HOME/wattbridge and $XDG_DATA_HOME/wattbridge on Linux).
import envPaths from 'env-paths';
import { join } from 'node:path';

export function wattbridgePaths(env = process.env) {
  if (env.WATTBRIDGE_HOME) {
    return { config: env.WATTBRIDGE_HOME, state: join(env.WATTBRIDGE_HOME, 'state') };
  }
  const paths = envPaths('wattbridge', { suffix: '' });
  return { config: paths.config, state: join(paths.data, 'state') };
}
