// Node only: the OpenADR VEN's TLS options, as OpenLEADR's client has them,
// through an undici dispatcher handed to Node's own fetch (a page cannot do
// this: its fetch uses the browser's trust store and always checks names).
// - caFile: the PEM CA bundle the VTN's certificate must chain to (instead
//   of the usual authorities, as OpenLEADR's `ca_file`);
// - checkHostname: false accepts a certificate made out to another name
//   (a VTN reached by its IP address); the chain is still checked;
// - cert and key (the signing pair) are also the TLS client certificate,
//   as OpenLEADR's client presents them: its VTN over TLS requires one.
import { readFile } from 'node:fs/promises';
import { Agent } from 'undici';
import { WattbridgeError } from './errors.js';

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/**
 * A fetch carrying the VEN's TLS options, or null when it has none.
 * @returns {Promise<{fetch: (request: Request) => Promise<Response>, close: () => Promise<void>} | null>}
 */
export async function venTlsFetch({ caFile, checkHostname, cert, key, passphrase }) {
  checkTlsOptions({ caFile, checkHostname });
  const connect = {};
  if (caFile !== undefined) connect.ca = await readCaFile(caFile);
  if (checkHostname === false) connect.checkServerIdentity = () => undefined;
  if (cert && key) Object.assign(connect, { cert, key, passphrase });
  if (Object.keys(connect).length === 0) return null;
  const dispatcher = new Agent({ connect });
  return {
    fetch: (request) => fetch(request, { dispatcher }),
    close: () => dispatcher.close(),
  };
}

/** The types of caFile and checkHostname, whichever platform runs. */
export function checkTlsOptions({ caFile, checkHostname }) {
  if (caFile !== undefined && (typeof caFile !== 'string' || caFile === '')) {
    throw new WattbridgeError('caFile must be the path of a PEM file of CA certificates', { code: 'invalid_config', provider: 'openadr' });
  }
  if (checkHostname !== undefined && typeof checkHostname !== 'boolean') {
    throw new WattbridgeError(`checkHostname must be true or false, not ${JSON.stringify(checkHostname)}`, { code: 'invalid_config', provider: 'openadr' });
  }
}

async function readCaFile(path) {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new WattbridgeError(`cannot read the CA file ${path}: ${err.code ?? err.message}`, { code: 'invalid_config', provider: 'openadr' });
  }
  if (!text.includes(PEM_CERTIFICATE)) {
    throw new WattbridgeError(`the CA file ${path} holds no PEM certificate (${PEM_CERTIFICATE} …)`, { code: 'invalid_config', provider: 'openadr' });
  }
  return text;
}
