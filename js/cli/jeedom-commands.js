// `wattbridge jeedom push`: Linky and Weheat values, with their history, into
// the info commands of Jeedom virtual equipments, over Jeedom's JSON-RPC API.
import { jeedomClient } from './accounts.js';
import { renderJeedom, runTarget } from './sync-commands.js';

export const jeedomPush = (options, flags) =>
  runTarget(options, flags, {
    option: 'jeedom',
    field: 'jeedom',
    make: jeedomClient,
    title: 'Jeedom:',
    dryRun: 'Dry run: nothing was written.',
    render: renderJeedom,
    hint: 'In Jeedom: Plugins → Programming → Virtual, or the dashboard; each command\'s history from its gear icon.',
  });
