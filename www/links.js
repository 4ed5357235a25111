// A link the page shows for a URL a service sent (EnergyID's claim page):
// only https, or http to this machine, may become a link. A `javascript:` or
// `data:` URL from a compromised or spoofed service must not run in the page.
export function safeHref(href) {
  let url;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopback) ? url.href : null;
}
