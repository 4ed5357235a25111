// What wattbridge announces to Home Assistant over MQTT (its discovery
// protocol, ../shared/contracts/homeassistant.md §4), and the states it sends.
// Pure functions of a snapshot: no connection, no clock, so the messages are
// tested exactly. Every device's values travel as one JSON document on
// `<base>/<device>/state`; each entity picks its field with a value_template,
// and a null field becomes HA's "unknown" (the template renders None).

/**
 * What each kind of device shows: `[object, name, options]`, in display order.
 * A period's total (`state_class: total`) names the state field holding the
 * period's start in `last_reset`: without it HA's statistics would read the
 * drop at a new week or month as negative energy.
 */
const ENTITIES = {
  linky: [
    ['energy', 'Energy', { device_class: 'energy', state_class: 'total_increasing', unit: 'kWh', icon: 'mdi:meter-electric' }],
    ['production_energy', 'Production energy', { device_class: 'energy', state_class: 'total_increasing', unit: 'kWh', optional: true }],
    ['yesterday', 'Yesterday', { device_class: 'energy', state_class: 'total', unit: 'kWh', last_reset: 'yesterday_start' }],
    ['this_week', 'This week', { device_class: 'energy', state_class: 'total', unit: 'kWh', last_reset: 'this_week_start' }],
    ['this_month', 'This month', { device_class: 'energy', state_class: 'total', unit: 'kWh', last_reset: 'this_month_start' }],
    ['this_year', 'This year', { device_class: 'energy', state_class: 'total', unit: 'kWh', last_reset: 'this_year_start' }],
    ['yesterday_cost', 'Yesterday cost', { device_class: 'monetary', state_class: 'total', unit: 'currency', last_reset: 'yesterday_start' }],
    ['max_power', 'Yesterday max power', { device_class: 'apparent_power', state_class: 'measurement', unit: 'VA', attributes: ['max_power_at'] }],
    ['last_data_day', 'Last data day', { device_class: 'date' }],
    ['consent', 'Consent', { device_class: 'enum', options: ['ok', 'consent_required', 'auth_required', 'error'] }],
  ],
  weheat: [
    ['state', 'State', { device_class: 'enum', options: 'states' }],
    ['water_in', 'Water in', { device_class: 'temperature', state_class: 'measurement', unit: '°C' }],
    ['water_out', 'Water out', { device_class: 'temperature', state_class: 'measurement', unit: '°C' }],
    ['outside', 'Outside', { device_class: 'temperature', state_class: 'measurement', unit: '°C' }],
    ['room', 'Room', { device_class: 'temperature', state_class: 'measurement', unit: '°C' }],
    ['compressor', 'Compressor', { state_class: 'measurement', unit: '%', icon: 'mdi:gauge' }],
    ['power_in', 'Electrical power', { device_class: 'power', state_class: 'measurement', unit: 'W' }],
    ['power_out', 'Heat power', { device_class: 'power', state_class: 'measurement', unit: 'W' }],
    ['cop', 'COP', { state_class: 'measurement', icon: 'mdi:heat-pump' }],
    ['electricity', 'Electricity', { device_class: 'energy', state_class: 'total_increasing', unit: 'kWh' }],
    ['heat', 'Heat', { device_class: 'energy', state_class: 'total_increasing', unit: 'kWh' }],
  ],
  openadr: [
    ['active', 'Event active', { component: 'binary_sensor', attributes: ['event_id'] }],
    ['signal', 'Signal level', { state_class: 'measurement', icon: 'mdi:transmission-tower' }],
    ['opt', 'Opt state', { device_class: 'enum', options: ['optIn', 'optOut'] }],
    ['next_event', 'Next event start', { device_class: 'timestamp' }],
  ],
  energyid: [
    ['outbox', 'Outbox', { state_class: 'measurement', icon: 'mdi:tray-full' }],
    ['last_upload', 'Last upload', { device_class: 'timestamp' }],
    ['status', 'Status', { device_class: 'enum', options: ['ok', 'waiting', 'needs_claim', 'disabled'] }],
  ],
};

/** The kinds of device and their entities' object ids (for docs and tests). */
export const ENTITY_OBJECTS = Object.fromEntries(Object.entries(ENTITIES).map(([kind, list]) => [kind, list.map(([object]) => object)]));

/** A topic level and an entity id part: `[a-z0-9_]`, as discovery and entity ids allow. */
export const topicId = (text) => String(text).toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');

/**
 * @typedef {object} Device
 * @property {'linky'|'weheat'|'energyid'|'openadr'} kind
 * @property {string} id         unique among wattbridge's devices, e.g. `linky_11111111111111`
 * @property {string} name       what HA shows, e.g. `Linky 11111111111111`
 * @property {string} manufacturer
 * @property {string} model
 * @property {string} [swVersion] the device's own firmware, when known
 * @property {Record<string, string|number|boolean|null>} values  one field per entity object (null = unknown)
 * @property {string[]} [omit]   optional entities this device does not have (a meter that does not produce)
 */

/**
 * @typedef {object} Naming
 * @property {string} prefix   discovery prefix, `homeassistant`
 * @property {string} base     base topic, `wattbridge`
 * @property {string} version  wattbridge's version (origin and default sw_version)
 * @property {string} [currency] the unit of money entities, default EUR
 * @property {string[]} [weheatStates] the enum options of the heat pump's state
 * @property {string} [availability] this process's availability topic (default `<base>/status`)
 * @property {string} [haStatus] Home Assistant's birth topic (default `homeassistant/status`)
 */

const stateTopic = (naming, device) => `${naming.base}/${device.id}/state`;
/** Where this process says online/offline: `<base>/status`, or its own topic (a VEN runs beside `mqtt run`). */
export const availabilityTopic = (naming) => naming.availability ?? `${naming.base}/status`;
/** Where HA announces itself: its birth topic does not follow the discovery prefix, it is set on its own. */
export const homeAssistantStatusTopic = (naming) => naming.haStatus ?? 'homeassistant/status';

/** A device's entities; with `all`, also the optional ones it omits now (a removal clears what an older run may have announced). */
function entitiesOf(device, { all = false } = {}) {
  const list = ENTITIES[device.kind];
  if (!list) throw new TypeError(`unknown device kind ${device.kind}`);
  return all ? list : list.filter(([object, , options]) => !(options.optional && device.omit?.includes(object)));
}

/** One entity's discovery fields (full names: HA reads both, people read these). */
function entityConfig(naming, device, [object, name, options]) {
  const uniqueId = `wattbridge_${device.id}_${object}`;
  const component = options.component ?? 'sensor';
  const config = {
    name,
    unique_id: uniqueId,
    object_id: uniqueId,
    default_entity_id: `${component}.${uniqueId}`,
    state_topic: stateTopic(naming, device),
    value_template: `{{ value_json.${object} }}`,
  };
  // A binary sensor's value renders as Python prints a JSON boolean.
  if (component === 'binary_sensor') Object.assign(config, { payload_on: 'True', payload_off: 'False' });
  if (options.device_class) config.device_class = options.device_class;
  if (options.state_class) config.state_class = options.state_class;
  if (options.unit) config.unit_of_measurement = options.unit === 'currency' ? naming.currency ?? 'EUR' : options.unit;
  if (options.options) config.options = options.options === 'states' ? naming.weheatStates ?? [] : options.options;
  if (options.icon) config.icon = options.icon;
  // `or ''`: HA ignores an empty last_reset, while "None" (a null) logs a warning.
  if (options.last_reset) config.last_reset_value_template = `{{ value_json.${options.last_reset} or '' }}`;
  if (options.attributes) {
    config.json_attributes_topic = stateTopic(naming, device);
    const fields = options.attributes.map((field) => `'${field.startsWith(`${object}_`) ? field.slice(object.length + 1) : field}': value_json.${field}`).join(', ');
    config.json_attributes_template = `{{ {${fields}} | tojson }}`;
  }
  return { component, object, config };
}

function deviceBlock(naming, device) {
  return {
    identifiers: [`wattbridge_${device.id}`],
    name: device.name,
    manufacturer: device.manufacturer,
    model: device.model,
    sw_version: device.swVersion ?? naming.version,
  };
}

const origin = (naming) => ({ name: 'wattbridge', sw_version: naming.version, support_url: 'https://www.npmjs.com/package/wattbridge' });

const availability = (naming) => ({ availability_topic: availabilityTopic(naming), payload_available: 'online', payload_not_available: 'offline' });

/**
 * The retained discovery configs of every device: one message per entity
 * (`<prefix>/sensor/wattbridge_<device>/<object>/config`), or with
 * `deviceBased` one per device (`<prefix>/device/wattbridge_<device>/config`,
 * HA 2024.11 and later). With `remove`, the same topics with empty payloads,
 * which delete them.
 * @param {Device[]} devices
 * @param {Naming & {deviceBased?: boolean, remove?: boolean}} naming
 * @returns {{topic: string, payload: string, retain: true}[]}
 */
export function discoveryMessages(devices, naming) {
  const messages = [];
  for (const device of devices) {
    const entities = entitiesOf(device, { all: naming.remove }).map((entity) => entityConfig(naming, device, entity));
    if (naming.deviceBased) {
      const topic = `${naming.prefix}/device/wattbridge_${device.id}/config`;
      const components = Object.fromEntries(entities.map(({ component, object, config }) => {
        const { state_topic: _shared, ...own } = config;
        return [object, { platform: component, ...own }];
      }));
      const payload = { device: deviceBlock(naming, device), origin: origin(naming), state_topic: stateTopic(naming, device), ...availability(naming), components };
      messages.push({ topic, payload: naming.remove ? '' : JSON.stringify(payload), retain: true });
      continue;
    }
    for (const { component, object, config } of entities) {
      const topic = `${naming.prefix}/${component}/wattbridge_${device.id}/${object}/config`;
      const payload = { ...config, ...availability(naming), device: deviceBlock(naming, device), origin: origin(naming) };
      messages.push({ topic, payload: naming.remove ? '' : JSON.stringify(payload), retain: true });
    }
  }
  return messages;
}

/**
 * Each device's values as one retained JSON state. Fields a device does not
 * know are null (HA shows "unknown"): a value is never made up.
 * @param {Device[]} devices
 * @param {Naming} naming
 */
export function stateMessages(devices, naming) {
  return devices.map((device) => {
    const state = {};
    for (const [object, , options] of entitiesOf(device)) {
      state[object] = device.values[object] ?? null;
      for (const field of [...(options.attributes ?? []), ...(options.last_reset ? [options.last_reset] : [])]) state[field] = device.values[field] ?? null;
    }
    return { topic: stateTopic(naming, device), payload: JSON.stringify(state), retain: true };
  });
}
