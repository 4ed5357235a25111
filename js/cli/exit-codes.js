// Exit codes a scheduler can act on: retry later (4) is different from "a person
// must act" (3) and from "the command or settings are wrong" (2); 1 is anything
// else (a bug). The table is Rust's (`ErrorCode::disposition`), the same one
// the bridge's block policy uses, so the two can never disagree. The wasm is
// loaded here only on the error path, so `--help` never pays for it.

/** @returns {Promise<number>} */
export async function exitCodeOf(err) {
  if (typeof err?.code !== 'string') return 1;
  await import('../node-wasm.js');
  const { exitCodeOf: fromRust } = await import('../../pkg/wattbridge.js');
  return fromRust(err.code);
}
