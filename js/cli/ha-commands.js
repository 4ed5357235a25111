// `wattbridge ha statistics`: Linky and Weheat into Home Assistant's long-term
// statistics (the Energy dashboard), over HA's WebSocket API.
import { homeAssistantClient } from './accounts.js';
import { renderHa, runTarget } from './sync-commands.js';

export const haStatistics = (options, flags) =>
  runTarget(options, flags, {
    option: 'homeassistant',
    field: 'ha',
    make: homeAssistantClient,
    title: 'Home Assistant statistics:',
    dryRun: 'Dry run: nothing was imported.',
    render: renderHa,
    hint: 'In Home Assistant: Settings → Dashboards → Energy → add consumption → pick a wattbridge:… statistic.',
  });
