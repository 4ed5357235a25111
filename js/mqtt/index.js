// `wattbridge/mqtt`: the MQTT publisher for scripts and pages (the CLI's
// `mqtt publish|run` are built from the same pieces).
export { connectBroker, publishDevices, removeDevices, disconnectBroker, onHomeAssistantBirth, checkBrokerUrl } from './publisher.js';
export { discoveryMessages, stateMessages, availabilityTopic, ENTITY_OBJECTS } from './discovery.js';
export { collectDevices } from './snapshot.js';
export { VenEvents, venDevice } from './openadr.js';
