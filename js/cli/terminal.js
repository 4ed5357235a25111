// Text from a remote service (a verification URL, a claim URL, a server's
// reason inside an error message) reaches the person's terminal. Control
// characters could move the cursor, rewrite lines or change the title, and
// bidi overrides could show a URL other than the one printed: both are
// removed before printing. JSON output needs none of this (JSON escapes them).

// C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings,
// overrides and isolates.
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without what a terminal would interpret instead of show. */
export function printable(text) {
  return String(text).replace(UNPRINTABLE, '');
}
