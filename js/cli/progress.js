// Progress bars for long work, on stderr and only for a person at a terminal:
// never in --json output, pipes or CI logs (NO_COLOR honoured by cli-progress' plain preset).
import cliProgress from 'cli-progress';

/**
 * An `onProgress({done, total})` callback drawing a bar labelled `label`, and
 * `stop()` to clear it. A no-op when stderr is not a TTY or `quiet` is set.
 */
export function progressBar(label, { quiet = false, stream = process.stderr } = {}) {
  if (quiet || !stream.isTTY) return { onProgress: () => {}, stop: () => {} };
  let bar = null;
  return {
    onProgress({ done, total }) {
      if (total < 2) return; // one request is over before a bar helps
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: `${label} [{bar}] {value}/{total} requests | {eta_formatted} left`, stream, clearOnComplete: true, hideCursor: true },
          process.env.NO_COLOR ? cliProgress.Presets.legacy : cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
      }
      bar.update(done);
    },
    stop() {
      bar?.stop();
    },
  };
}
