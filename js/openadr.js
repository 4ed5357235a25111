// OpenADR 2.0b VEN for JS users. It lives in its own wasm module
// (pkg-openadr/), loaded on first use, so users of the energy-data providers
// never download it. Node reads the bytes; browsers fetch them.

import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';

let modulePromise;
async function loadModule() {
  modulePromise ??= (async () => {
    const wasm = await import('../pkg-openadr/wattbridge_openadr.js');
    const url = new URL('../pkg-openadr/wattbridge_openadr_bg.wasm', import.meta.url);
    if (url.protocol === 'file:') {
      const { readFile } = await import('node:fs/promises');
      wasm.initSync({ module: await readFile(url) });
    } else {
      await wasm.default({ module_or_path: url });
    }
    wasm.setErrorClass(WattbridgeError);
    return wasm;
  })();
  return modulePromise;
}

/**
 * A VEN (pull mode) for an OpenADR 2.0b VTN.
 *
 *   const ven = new OpenAdrVen({ vtnUrl, venName });
 *   ven.onEvent(async (event) => 'optIn');
 *   ven.addReport(() => 1.5, { resourceId: 'meter1', measurement: 'powerReal', unit: 'W' });
 *   await ven.start();   // registered, reports offered, events requested; polling goes on
 *   await ven.stop();    // loop ended, registration cancelled
 */
export class OpenAdrVen {
  #options;
  #onEvent = () => 'optIn';
  #reports = [];
  #listeners = new Set();
  #core;
  #loop;
  #tls;

  /**
   * @param {object} options
   * @param {string} options.vtnUrl e.g. http://127.0.0.1:8080/OpenADR2/Simple/2.0b
   * @param {string} options.venName
   * @param {string} [options.cert] PEM certificate to sign our messages with
   * @param {string} [options.key] PEM private key (PKCS#8, PKCS#1 or encrypted PKCS#8)
   * @param {string} [options.passphrase] for an encrypted key
   * @param {string} [options.vtnFingerprint] refuse VTN messages not signed by this certificate
   * @param {boolean} [options.disableSignature] send our messages unsigned even with cert and key (OpenLEADR's disable_signature)
   * @param {boolean} [options.allowJitter] spread polls ±10 % around the VTN's rate (default true; false polls exactly at it)
   * @param {string} [options.caFile] Node only: PEM file of the CA certificates the VTN's TLS certificate must chain to (instead of the usual authorities; OpenLEADR's ca_file)
   * @param {boolean} [options.checkHostname] Node only: false accepts a VTN certificate made out to another name, e.g. a VTN reached by IP (default true)
   *   In Node, `cert` and `key` are also presented as the TLS client certificate, as OpenLEADR's client does.
   *   A page cannot take caFile or checkHostname (the browser checks certificates itself): start() refuses them there.
   * @param {(notice: object) => void} [options.onNotice] progress: registered, event, reportSent, error, …
   */
  constructor({ onNotice, ...options } = {}) {
    this.#options = options;
    if (onNotice) this.#listeners.add(onNotice);
  }

  /** `handler(event)` returns (or resolves to) 'optIn' or 'optOut'. */
  onEvent(handler) {
    if (typeof handler !== 'function') throw new WattbridgeError('onEvent needs a function', { code: 'invalid_input' });
    this.#onEvent = handler;
    return this;
  }

  /** Listen to what the VEN does (same objects as the `onNotice` option). */
  onNotice(listener) {
    this.#listeners.add(listener);
    return this;
  }

  /**
   * Offer a reading: `callback()` returns its current value: a number
   * (`payloadFloat`), or for a `reportName: 'TELEMETRY_STATUS'` report (no
   * measurement) a resource status `{online, manualOverride, loadControlState?}`
   * (`oadrPayloadResourceStatus`; `loadControlState` has any of `capacity`,
   * `levelOffset`, `percentOffset`, `setPoint`, each `{current, min?, max?, normal?}`).
   * `measurement` is one of OpenLEADR's (voltage, current, energyReal, energyReactive,
   * energyApparent, powerReal, powerReactive, powerApparent, frequency, temperature,
   * pulseCount; its enum names such as POWER_REAL work too); `hertz`, `voltage` and `ac`
   * are the power attributes of a power or energy measurement (default 50, 230, true).
   * @param {() => number | object | Promise<number | object>} callback
   * @param {{resourceId: string, measurement?: string, unit?: string, scale?: string, samplingRate?: number, reportName?: string, rId?: string, hertz?: number, voltage?: number, ac?: boolean}} description
   */
  addReport(callback, { resourceId, measurement, unit, scale = 'none', samplingRate = 10, reportName = 'TELEMETRY_USAGE', rId, hertz = 50, voltage = 230, ac = true } = {}) {
    if (this.#core) throw new WattbridgeError('add reports before start()', { code: 'invalid_input' });
    if (typeof callback !== 'function') throw new WattbridgeError('addReport needs a callback', { code: 'invalid_input' });
    // The rID (default `${resourceId}_${measurement}`, by the measurement's element name) is the core's to name.
    // No measurement ('') is a TELEMETRY_STATUS report's; the core names what is missing otherwise.
    const offer = { resourceId, measurement: measurement ?? '', unit, scale, samplingRateSecs: samplingRate, reportName, rId, powerAttributes: { hertz, voltage, ac } };
    this.#reports.push({ offer, callback });
    return this;
  }

  /** Register (and register reports, request events), then poll in the background. */
  async start() {
    if (this.#core) throw new WattbridgeError('the VEN is already started', { code: 'invalid_input' });
    const { OpenAdrVenCore, reportRid } = await loadModule();
    const { caFile, checkHostname, ...options } = this.#options;
    const config = { ...options, reports: this.#reports.map((r) => r.offer) };
    // An offer the core would refuse is reported by the constructor below, with all the others' checks.
    const callbacks = new Map(this.#reports.map((r) => [safeRid(reportRid, r.offer), r.callback]));
    const tls = await defaults.venTlsFetch({ caFile, checkHostname, cert: options.cert, key: options.key, passphrase: options.passphrase });
    try {
      this.#core = new OpenAdrVenCore(
        config,
        async (event) => this.#onEvent(event),
        async (rId) => readingOf(await callbacks.get(rId)()),
        (notice) => {
          for (const listener of this.#listeners) listener(notice);
        },
        tls?.fetch,
      );
      this.#tls = tls;
      const venId = await this.#core.register();
      this.#loop = this.#core.run();
      return { venId };
    } catch (err) {
      this.#core = undefined;
      this.#tls = undefined;
      await tls?.close();
      throw err;
    }
  }

  /**
   * The events still to come or under way (not cancelled, completed or ended),
   * soonest first, in OpenLEADR's shape: OpenLEADR's `show_next_events`.
   * Empty before `start()`.
   */
  showNextEvents() {
    return this.#core ? this.#core.nextEvents() : [];
  }

  /** End the loop and cancel the registration at the VTN. */
  async stop() {
    if (!this.#core) return;
    this.#core.stop();
    await this.#loop;
    try {
      await this.#core.cancelRegistration();
    } finally {
      this.#core = undefined;
      await this.#tls?.close();
      this.#tls = undefined;
    }
  }
}

/** A number (numeric text too, as before), or a resource status object as it is. */
function readingOf(value) {
  return typeof value === 'object' && value !== null ? value : Number(value);
}

function safeRid(reportRid, offer) {
  try {
    return reportRid(offer);
  } catch {
    return undefined;
  }
}
