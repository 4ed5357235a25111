#!/usr/bin/env node
// The `wattbridge` command. Library code never prints: this file renders what
// the library reports, as text for people or as JSON (--json) for scripts.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
// Only what every run needs is imported here. Each command loads its own
// implementation (and with it the wasm module, prompts, progress bars, the CSV
// parser, …) with import() when it runs, so `--help`, `--version` and a
// mistyped command start as fast as node itself (`npm run bench` measures it).
// The exit-code table too is read only when a command fails.
import { WattbridgeError } from '../errors.js';

// commander is CommonJS: require() loads it directly, where an ESM import would
// first scan its source for export names (measured: 8 M instructions of start-up).
const { Command, Option } = createRequire(import.meta.url)('commander');

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

const program = new Command()
  .name('wattbridge')
  .description(
    'Move home-energy data from Linky (Enedis) and Weheat into EnergyID, Home Assistant, MQTT and Jeedom, from Node or a browser, without a backend.',
  )
  // A usage error (unknown command or option, a missing argument or
  // subcommand) is bad input: exit 2 as the table below says, not commander's 1.
  // Set before any subcommand is added, so that every one inherits it.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .version(version, '-V, --version', 'print the version')
  .option('--json', 'machine-readable output: one JSON document on stdout')
  .option('-c, --config <key=value>', 'set any setting for this run (repeatable), e.g. -c linky.meter=12345678901234', (value, previous = []) => [...previous, value])
  .option('-v, --verbose', 'log each request (method, URL without query, status, time) to stderr; same as WATTBRIDGE_DEBUG=1')
  .helpOption('-h, --help', 'show help for a command')
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Settings come from flags (-c key=value for any but secrets), then WATTBRIDGE_*
environment variables, then the config file (secrets: the 0600 state file);
\`wattbridge config show\` lists them. WATTBRIDGE_HOME moves config and state
(default: the platform's config and data directories).
Exit codes: 0 ok, 2 bad input or settings, 3 a person must act (log in, claim,
consent, re-enable a webhook), 4 temporary (network, rate limit, service down,
another sync running: try later), 1 anything else (a bug).

Examples:
  wattbridge config init          set up sources, accounts and EnergyID keys
  wattbridge sync                 move new Linky and Weheat data into EnergyID (and Home Assistant)
  wattbridge ha statistics        import Linky and Weheat into Home Assistant's Energy dashboard
  wattbridge jeedom push          write Linky and Weheat values and history into Jeedom commands
  wattbridge demo                 the whole job against the built-in sandbox (no account needed)
  wattbridge sandbox --port 8787  serve the sandbox services until Ctrl-C
  wattbridge linky login          log in to Linky (device code, like gh auth login)
  wattbridge linky fetch daily    fetch daily consumption into the local history
  wattbridge weheat login         log in to Weheat in your browser
  wattbridge energyid login       provision and claim the EnergyID device
  wattbridge openadr run --vtn http://127.0.0.1:8080/OpenADR2/Simple/2.0b --ven-name home
                                  an OpenADR 2.0b VEN: events, opt in/out, one report`,
  );

program
  .command('demo')
  .description('the whole job on the built-in sandbox: log in to Linky, Weheat and EnergyID, backfill 90 days, show the result (no account needed)')
  .action(action(async (_options, cmd) => {
    const json = cmd.optsWithGlobals().json;
    const { runDemo, renderDemo } = await import('./demo.js');
    const result = await runDemo({ say: json ? () => {} : (line) => process.stderr.write(`${line}\n`) });
    return { result, text: renderDemo(result) };
  }));

program
  .command('sandbox')
  .description('serve the sandbox services on loopback and print their URLs until stopped (Ctrl-C)')
  .addOption(new Option('-p, --port <port>', 'port to listen on (0 picks a free one)').default(0).argParser(parsePort))
  .action(action(async (options, cmd) => (await import('./sandbox.js')).runSandbox({ port: options.port, json: cmd.optsWithGlobals().json })));

program
  .command('sync')
  .description('move new Linky and Weheat data into EnergyID, Home Assistant and/or Jeedom (sync.targets): fetch from each cursor, queue, upload within the policy')
  .option('--since <date>', 'limit the first backfill (default: as far back as each source allows; Weheat one year)')
  .option('--dry-run', 'fetch and show what would be sent; queue and send nothing')
  .option('--retry-blocked', 'also try sources paused by an error a person had to fix (consent, login)')
  .addOption(new Option('--max-wait <seconds>', 'wait at most this long for EnergyID\'s next upload slot').argParser(parseNonNegative))
  .addHelpText(
    'after',
    `
Run it from cron or a systemd timer, e.g. hourly. Each source continues from
its cursor (Linky re-reads its last 3 days, which Enedis still completes); a
second run right after fetches only that and sends nothing already delivered.
A source that needs a person (consent_required, auth_required) is paused until
you log in again, then resumes. Exit codes: 0 all done, 3 a person must act,
4 temporary (try later; nothing is lost).`,
  )
  .action(action(async (options, cmd) => (await import('./sync-commands.js')).syncCommand(options, cmd.optsWithGlobals())));
program.command('status').description('every source and target at a glance: Linky, Weheat, the EnergyID record and its outbox, Home Assistant, MQTT, Jeedom (no request)').action(action(async () => (await import('./status-command.js')).statusCommand()));
const config = program.command('config').description('the settings file (secrets are kept in the 0600 state file)');
config.command('init').description('answer a few questions: sources, accounts, EnergyID keys').action(action(async () => (await import('./sync-commands.js')).configInit()));
config.command('show').description('every setting, its value and where it comes from; secrets redacted').action(action(async () => (await import('./sync-commands.js')).configShow()));

const ha = program
  .command('ha')
  .description('Home Assistant: Linky and Weheat in the Energy dashboard, as long-term statistics')
  .addHelpText(
    'after',
    `
Needs ha.url (e.g. http://homeassistant.local:8123; https, or http on this
machine) and a long-lived access token of an admin user (HA: your profile →
Security → Long-lived access tokens) in WATTBRIDGE_HA_TOKEN or the state file
(\`wattbridge config init\`), never on the command line. Inside a Home Assistant
add-on, SUPERVISOR_TOKEN is used when ha.url is unset.

Examples:
  WATTBRIDGE_HA_TOKEN=… wattbridge -c ha.url=http://homeassistant.local:8123 ha statistics
  wattbridge ha statistics --since 2025-01-01 --json
  wattbridge sync          (also feeds HA when ha.url is set; see sync.targets)`,
  );
ha
  .command('statistics')
  .description('fetch what is new from Linky and Weheat, then import it into Home Assistant\'s long-term statistics')
  .addOption(new Option('--since <date>', 'limit the first backfill (default: as far back as each source allows; Weheat one year)').argParser(parseDate))
  .option('--dry-run', 'fetch and read where HA stands; import nothing')
  .addHelpText(
    'after',
    `
Statistics (source wattbridge), hourly rows at whole UTC hours:
  wattbridge:linky_<PRM>_consumption   kWh, from the half-hour load curve
  wattbridge:linky_<PRM>_production    kWh, when the meter produces
  wattbridge:linky_<PRM>_cost          ha.currency (EUR), priced by linky.tariff/price_*
  wattbridge:weheat_<pump>_electricity and _heat   kWh
A missing hour stays missing (never a 0) and is filled once the source has it;
each run starts from what HA already holds and re-reads Linky's last
linky.correction_days (3) days, so a second run imports nothing.
Then in HA: Settings → Dashboards → Energy → Add consumption → wattbridge:linky_….
Exit codes: 0 done, 2 bad settings or a row HA rejected, 3 the token was refused
or its user is not an admin, 4 HA unreachable or busy (nothing was lost: run again).`,
  )
  .action(action(async (options, cmd) => (await import('./ha-commands.js')).haStatistics(options, cmd.optsWithGlobals())));

const jeedom = program
  .command('jeedom')
  .description('Jeedom: Linky and Weheat values, with their history, in the commands of virtual equipments')
  .addHelpText(
    'after',
    `
Needs jeedom.url (e.g. https://jeedom.local; https, or http on this machine)
and Jeedom's API key (Jeedom: Settings → System → Configuration → API) in
WATTBRIDGE_JEEDOM_API_KEY or the state file (\`wattbridge config init\`), never
on the command line. jeedom.object puts new equipments in a room; Jeedom's time
zone is read from Jeedom unless jeedom.timezone is set.

Examples:
  WATTBRIDGE_JEEDOM_API_KEY=… wattbridge -c jeedom.url=https://jeedom.local jeedom push
  wattbridge jeedom push --since 2025-01-01 --json
  wattbridge sync          (also pushes to Jeedom when jeedom.url is set; see sync.targets)`,
  );
jeedom
  .command('push')
  .description('fetch what is new from Linky and Weheat, then write it into Jeedom (history at its own dates)')
  .addOption(new Option('--since <date>', 'limit the first backfill (default: as far back as each source allows; Weheat one year)').argParser(parseDate))
  .option('--dry-run', 'fetch and find the equipments; create and write nothing')
  .addHelpText(
    'after',
    `
Equipments (virtual, enabled, visible), found again by logicalId:
  Linky <PRM>    wattbridge_linky_<PRM>: daily consumption (kWh), average power
                 every half-hour (W), daily max power (VA), daily production
                 (kWh, when the meter produces), yesterday … this year (kWh)
                 and their cost (with linky.price_*)
  Weheat <pump>  wattbridge_weheat_<pump>: state, temperatures (°C), COP,
                 daily electricity and heat (kWh)
Past values are written at their own date, in Jeedom's local time; a rerun
writes nothing new, and a day Enedis corrected is written again.
Exit codes: 0 done, 2 bad settings or a call Jeedom rejected, 3 the API key was
refused, 4 Jeedom unreachable (nothing was marked as written: run again).`,
  )
  .action(action(async (options, cmd) => (await import('./jeedom-commands.js')).jeedomPush(options, cmd.optsWithGlobals())));

const linky = program
  .command('linky')
  .description('Enedis Linky smart meter: consent, history of the five series, statistics')
  .addHelpText(
    'after',
    `
Access: the device-flow gateway (\`linky login\`), or a Conso API token
(WATTBRIDGE_LINKY_CONSO_TOKEN, enough on its own), or an own Enedis app
(linky.app_client_id/_secret, then \`linky consent\`). Dates are Paris dates,
YYYY-MM-DD, --to exclusive; data exist up to yesterday.

Examples:
  wattbridge linky login
  wattbridge linky fetch daily --from 2025-01-01
  wattbridge linky fetch load-curve --from 2025-11-01 --to 2025-11-08 --format csv > curve.csv
  wattbridge linky stats`,
  );
const meterOption = () => new Option('--meter <PRM>', 'the meter (14 digits) when the consent covers several; default its first').argParser(parseMeter);
linky
  .command('login')
  .description('log in through the gateway: shows a code to enter at the URL it prints, then waits for your consent')
  .addOption(new Option('--timeout <seconds>', 'stop waiting after this long').argParser(parsePositive))
  .option('--import', 'keep tokens from another install instead: reads their JSON from stdin (see below)')
  .addHelpText(
    'after',
    `
--import takes the gateway's token answer, e.g.
  {"access_token": "…", "refresh_token": "…", "expires_in": 12600, "usage_points_id": "12345678901234"}
(the meters may also be "usage_point_id", "meter" or "meters": [...]), or
{"device_code": "…"} of a login approved elsewhere. The tokens are stored like
our own (0600 state file) and never printed:
  wattbridge linky login --import < tokens.json`,
  )
  .action(action(async (options) => (await import('./auth-commands.js')).linkyLogin(options)));
linky.command('logout').description('forget the Linky tokens').action(action(async () => (await import('./auth-commands.js')).logout('linky')));
linky
  .command('meters')
  .description('list the meters (PRM) the consent covers')
  .action(action(async (options) => (await import('./linky-commands.js')).linkyMeters(options)));
linky
  .command('fetch')
  .description('fetch a series into the local history (only what is not stored yet, plus the last days), then print it')
  .argument('<series>', 'daily | load-curve | max-power | production | production-load-curve')
  .addOption(new Option('--from <date>', 'first day (default: as far back as Enedis keeps)').argParser(parseDate))
  .addOption(new Option('--to <date>', 'day after the last one (default: today)').argParser(parseDate))
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']))
  .addOption(meterOption())
  .action(action(async (series, options, cmd) => (await import('./linky-commands.js')).linkyFetch(series, options, cmd.optsWithGlobals())));
linky
  .command('stats')
  .description('kWh for yesterday, this week, last week, this month, last month and this year, with cost')
  .addOption(meterOption())
  .action(action(async (options, cmd) => (await import('./linky-commands.js')).linkyStats(options, cmd.optsWithGlobals())));
linky
  .command('status')
  .description('token, consent, and per series what is stored and what is missing')
  .addOption(meterOption())
  .action(action(async (options) => (await import('./linky-commands.js')).linkyStatus(options)));
linky
  .command('consent')
  .description('own Enedis app: print the consent page URL, or record the URL Enedis redirected to')
  .argument('[redirected-url]', 'the URL the customer came back to after consenting')
  .option('--redirect-uri <url>', 'where Enedis sends the customer back (as registered for your app)')
  .action(action(async (callbackUrl, options) => (await import('./linky-commands.js')).linkyConsent(callbackUrl, options)));

const energyid = program
  .command('energyid')
  .description('EnergyID webhook: provision and claim the device, queue readings, upload within the policy')
  .addHelpText(
    'after',
    `
Every reading goes to a durable outbox first and leaves only after EnergyID
accepted it; uploads go out in batches (energyid.batch_cap, 1000) and never
faster than the record's policy. Needs WATTBRIDGE_ENERGYID_PROVISIONING_KEY/_SECRET.

Examples:
  wattbridge energyid login
  wattbridge energyid send el=1250.5 pv=3560 --ts 2026-11-21T10:00:00Z
  wattbridge energyid import readings.csv     (columns ts,key,value or ts,el,pv,...)
  wattbridge energyid flush`,
  );
energyid
  .command('login')
  .description('provision the device, show the claim code and URL, and wait until it is claimed')
  .addOption(new Option('--timeout <seconds>', 'stop waiting after this long').argParser(parsePositive).default(900))
  .addOption(new Option('--poll <seconds>', 'ask EnergyID this often').argParser(parsePositive).default(5))
  .action(action(async (options, cmd) => (await import('./energyid-commands.js')).energyIdLogin(options, cmd.optsWithGlobals())));
energyid.command('status').description('record, policy, outbox size and the next allowed upload').action(action(async () => (await import('./energyid-commands.js')).energyIdStatus()));
energyid
  .command('send')
  .description('queue readings and send what the policy allows now')
  .argument('<key=value...>', 'e.g. el=1250.5 pv=3560 (kWh meter readings; see the metric keys in the README)')
  .option('--ts <time>', 'unix seconds or ISO 8601 (default: now)')
  .action(action(async (pairs, options) => (await import('./energyid-commands.js')).energyIdSend(pairs, options)));
energyid
  .command('import')
  .description('queue readings from a CSV (ts,key,value or wide ts,el,pv,...) or JSON file, then send what the policy allows')
  .argument('<file>', 'a .csv or .json file')
  .option('--dry-run', 'read and check the file, send nothing')
  .action(action(async (file, options, cmd) => (await import('./energyid-commands.js')).energyIdImport(file, options, cmd.optsWithGlobals())));
energyid
  .command('directives')
  .description("the record's directives (signals such as a dynamic tariff), or one by id with its values per interval")
  .argument('[id]', 'a directive id from the list')
  .addHelpText('after', `
Needs a claimed device whose hello gives an apiAccessToken; a refused token
gets one fresh hello and one retry.

Examples:
  wattbridge energyid directives
  wattbridge energyid directives dynamic-tariff --json`)
  .action(action(async (id) => (await import('./energyid-commands.js')).energyIdDirectives(id)));
energyid
  .command('flush')
  .description('send the outbox, waiting between uploads as the policy asks')
  .addOption(new Option('--max-wait <seconds>', 'wait at most this long for the next allowed upload').argParser(parseNonNegative).default(900))
  .action(action(async (options, cmd) => (await import('./energyid-commands.js')).energyIdFlush(options, cmd.optsWithGlobals())));

const weheat = program
  .command('weheat')
  .description('Weheat heat pump (cloud API): state, logs, energy and COP, within a request budget')
  .addHelpText(
    'after',
    `
Every request counts against the account's budget (weheat.budget_per_hour, 30):
Weheat asks clients not to hammer its backend. Times are dates or ISO 8601.

Examples:
  wattbridge weheat login
  wattbridge weheat latest
  wattbridge weheat energy --from 2026-11-01 --interval Day
  wattbridge weheat watch --json`,
  );
const pumpOption = () => new Option('--pump <id>', 'the heat pump (default: weheat.pump, else the first)');
weheat
  .command('login')
  .description('log in in your browser (code + PKCE; the redirect comes back to 127.0.0.1), or with a password from stdin')
  .option('--username <email>', 'Weheat account e-mail, with --password-stdin')
  .option('--password-stdin', 'read the password from stdin (used once, never stored)')
  .addOption(new Option('--timeout <seconds>', 'stop waiting for the browser after this long').argParser(parsePositive).default(600))
  .action(action(async (options) => (await import('./auth-commands.js')).weheatLogin(options)));
weheat.command('logout').description('end the Weheat session and forget the tokens').action(action(async () => (await import('./auth-commands.js')).logout('weheat')));
weheat.command('pumps').description('list the heat pumps of the account').action(action(async (options) => (await import('./weheat-commands.js')).weheatPumps(options)));
weheat.command('latest').description('the latest state: temperatures, compressor, power and COP').addOption(pumpOption()).action(action(async (options) => (await import('./weheat-commands.js')).weheatLatest(options)));
weheat
  .command('logs')
  .description('raw logs (4-hour windows) or aggregated logs with --interval')
  .requiredOption('--from <time>', 'start (date or ISO 8601)')
  .option('--to <time>', 'end (default: now)')
  .addOption(new Option('--interval <interval>', 'aggregate per interval').choices(['Minute', 'FiveMinute', 'FifteenMinute', 'Hour', 'Day', 'Week', 'Month', 'Year']))
  .addOption(pumpOption())
  .action(action(async (options, cmd) => (await import('./weheat-commands.js')).weheatLogs(options, cmd.optsWithGlobals())));
weheat
  .command('energy')
  .description('electricity used, heat delivered and COP per bucket and over the range')
  .requiredOption('--from <time>', 'start (date or ISO 8601)')
  .option('--to <time>', 'end (default: now)')
  .addOption(new Option('--interval <interval>', 'bucket size').choices(['Hour', 'Day', 'Week', 'Month', 'Year']).default('Day'))
  .addOption(pumpOption())
  .action(action(async (options, cmd) => (await import('./weheat-commands.js')).weheatEnergy(options, cmd.optsWithGlobals())));
weheat.command('totals').description('lifetime electricity, heat and COP').addOption(pumpOption()).action(action(async (options) => (await import('./weheat-commands.js')).weheatTotals(options)));
weheat
  .command('watch')
  .description('follow the pump: latest state every few minutes, energy every 30 min, gaps filled, within the budget')
  .addOption(pumpOption())
  .addOption(new Option('--resolution <seconds>', 'points kept in the feed (gap filling)').argParser(parsePositive).default(300))
  .addOption(new Option('--duration <seconds>', 'stop after this long (default: until Ctrl-C)').argParser(parsePositive))
  .action(action(async (options, cmd) => (await import('./weheat-commands.js')).weheatWatch(options, cmd.optsWithGlobals())));

const mqttCommand = program
  .command('mqtt')
  .description('every value as a Home Assistant device over MQTT discovery (also plain JSON for jMQTT and Node-RED)')
  .addHelpText(
    'after',
    `
Needs mqtt.url (mqtt://, mqtts://, ws://, wss://), and mqtt.username with
mqtt.password (a secret: WATTBRIDGE_MQTT_PASSWORD or \`config init\`) when the
broker asks for a login. Each device's values are one retained JSON document on
<base>/<device>/state; discovery configs go under <prefix>/sensor/… (retained).
A meter's energy index (total_increasing kWh) comes from the same bridge as sync.

Examples:
  wattbridge -c mqtt.url=mqtt://homeassistant.local:1883 mqtt publish
  wattbridge mqtt run                 stay connected (a systemd service)
  wattbridge mqtt publish --remove    delete wattbridge's entities from HA`,
  );
mqttCommand
  .command('publish')
  .description('one pass (cron): bring the indexes up to date, then publish discovery configs and current values, and exit')
  .option('--remove', 'delete the discovery configs and retained states instead (empty retained messages)')
  .option('--since <date>', 'limit the first backfill of the indexes (default: as far back as each source allows)')
  .action(action(async (options) => (await import('./mqtt-commands.js')).mqttPublish(options)));
mqttCommand
  .command('run')
  .description('stay connected: publish values when they change (every mqtt.interval s), announce again when HA restarts, until Ctrl-C')
  .option('--since <date>', 'limit the first backfill of the indexes')
  .addOption(new Option('--duration <seconds>', 'stop after this long (default: until Ctrl-C)').argParser(parsePositive))
  .action(action(async (options, cmd) => (await import('./mqtt-commands.js')).mqttRun(options, cmd.optsWithGlobals())));

const openadr = program
  .command('openadr')
  .description('OpenADR 2.0b VEN (pull mode): receive demand-response events, opt in or out, send reports');
openadr
  .command('run')
  .description('register with a VTN, log events and opt decisions, offer one TELEMETRY_USAGE report, until Ctrl-C')
  .requiredOption('--vtn <url>', 'the VTN base URL, e.g. http://127.0.0.1:8080/OpenADR2/Simple/2.0b (https except on loopback)')
  .requiredOption('--ven-name <name>', 'the name this VEN registers with')
  .option('--cert <file>', 'PEM certificate to sign our messages with (with --key)')
  .option('--key <file>', 'PEM private key: PKCS#8, PKCS#1 RSA, or encrypted PKCS#8 (then a passphrase option)')
  .option('--passphrase-stdin', 'read the key passphrase from stdin')
  .option('--passphrase-env <var>', 'read the key passphrase from this environment variable')
  .option('--vtn-fingerprint <fp>', "refuse VTN messages not signed by this certificate (AA:BB:…, the last 10 bytes of its SHA-256)")
  .option('--ca-file <file>', "PEM file of the CA certificates the VTN's TLS certificate must chain to, instead of the usual authorities (setting openadr.ca_file)")
  .option('--no-check-hostname', "accept a VTN certificate made out to another name, e.g. a VTN reached by IP; the chain is still checked (setting openadr.check_hostname=false)")
  .addOption(new Option('--report-value <number>', 'the value the report sends (W)').default('0'))
  .addOption(new Option('--report-interval <seconds>', 'sampling rate offered for the report').argParser(parsePositive).default(10))
  .option('--resource-id <id>', 'the resource the report describes', 'main')
  .option('--opt-out-if <rule>', 'opt out when an interval payload matches, e.g. signal>2 (> >= < <=); default: opt in to everything')
  .option('--mqtt', 'also publish the VEN as a Home Assistant device on the mqtt.url broker (event active, signal, opt, next event)')
  .addHelpText(
    'after',
    `
Each event is answered when the VTN asks for a response: optIn, or optOut when
--opt-out-if matches any interval's signal payload. The report is
TELEMETRY_USAGE, powerReal in W, rID <resource-id>_powerReal; the VTN decides
whether and how often to request it. Ctrl-C or SIGTERM cancels the registration
and exits 0. With --json, every step is one JSON line on stdout.

The key's passphrase is never a command-line argument (it would show in ps and
shell history): pipe it in with --passphrase-stdin or name a variable with
--passphrase-env. Key material is never printed.

TLS (https VTN): the certificate must chain to an authority this machine trusts,
or to one in --ca-file (then only those), and be made out to the URL's host
unless --no-check-hostname. With --cert and --key, the same pair is presented as
the TLS client certificate, as OpenLEADR's client does (its VTN over TLS
requires one).

Examples:
  wattbridge openadr run --vtn http://127.0.0.1:8080/OpenADR2/Simple/2.0b --ven-name home
  wattbridge openadr run --vtn http://127.0.0.1:8080/OpenADR2/Simple/2.0b --ven-name home \\
      --opt-out-if 'signal>2' --report-value 1500 --report-interval 60 --json
  # signed; VEN_KEY_PASS comes from your service manager or secret store
  wattbridge openadr run --vtn https://vtn.example/OpenADR2/Simple/2.0b --ven-name home \\
      --cert ven.crt --key ven.key --passphrase-env VEN_KEY_PASS --vtn-fingerprint E6:0C:FE:2F:56:53:64:EA:EC:35
  pass show ven-key | wattbridge openadr run --vtn https://vtn.example/OpenADR2/Simple/2.0b \\
      --ven-name home --cert ven.crt --key ven.key --passphrase-stdin
  # a VTN reached by IP, its certificate from a private CA
  wattbridge openadr run --vtn https://192.0.2.10:8443/OpenADR2/Simple/2.0b --ven-name home \\
      --cert ven.crt --key ven.key --ca-file vtn-ca.pem --no-check-hostname`,
  )
  .action(action(async (options, cmd) => (await import('./openadr-commands.js')).openAdrRun(options, cmd.optsWithGlobals())));

function parsePositive(value) {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new WattbridgeError(`expected a positive number of seconds, not "${value}"`, { code: 'invalid_input' });
  }
  return number;
}

function parseNonNegative(value) {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) {
    throw new WattbridgeError(`expected a number of seconds (0 or more), not "${value}"`, { code: 'invalid_input' });
  }
  return number;
}

function parseDate(value) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new WattbridgeError(`expected a date as YYYY-MM-DD, not "${value}"`, { code: 'invalid_input' });
  }
  return value;
}

function parseMeter(value) {
  if (!/^\d{14}$/.test(value)) throw new WattbridgeError(`--meter must be a PRM of 14 digits, not "${value}"`, { code: 'invalid_input' });
  return value;
}

function parsePort(value) {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new WattbridgeError(`--port must be a whole number from 0 to 65535, not "${value}"`, { code: 'invalid_input' });
  }
  return port;
}

/** Wrap a command: print its result in the chosen format, or its error, and set the exit code. */
function action(run) {
  return async (...args) => {
    const cmd = args[args.length - 1];
    const json = cmd.optsWithGlobals().json;
    try {
      const outcome = await run(...args);
      if (outcome === undefined) return;
      process.stdout.write(json ? `${JSON.stringify(outcome.result)}\n` : `${(await import('./terminal.js')).printable(outcome.text)}\n`);
    } catch (err) {
      await reportError(err, json);
    }
  };
}

async function reportError(err, json) {
  const known = err instanceof WattbridgeError;
  if (json) {
    const error = known ? err.toJSON() : { code: 'internal', message: String(err?.message ?? err) };
    process.stdout.write(`${JSON.stringify({ error })}\n`);
  } else {
    const { printable } = await import('./terminal.js');
    process.stderr.write(`wattbridge: ${printable(known ? `${err.message} [${err.code}]` : (err?.stack ?? err))}\n`);
  }
  const { exitCodeOf } = await import('./exit-codes.js');
  process.exitCode = await exitCodeOf(err);
}

program.hook('preAction', async (cmd) => {
  const { verbose, config: pairs } = cmd.optsWithGlobals();
  if (verbose) {
    const { setDebugLogger } = await import('../node.js');
    setDebugLogger((line) => process.stderr.write(`wattbridge debug: ${line}\n`));
  }
  const { setFlagSettings } = await import('../config.js');
  setFlagSettings(pairs ?? []);
});

try {
  await program.parseAsync();
} catch (err) {
  // Errors raised while parsing arguments (e.g. a bad --port).
  await reportError(err, process.argv.includes('--json'));
}
