/** Progress for long renders: a bar on a terminal, a line every 10 % otherwise (logs, CI). */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export function createProgress(total: number, label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} frames | {fps} fps | eta {eta}s`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    const t0 = performance.now();
    bar.start(total, 0, { fps: '0' });
    return {
      update(done) {
        const fps = done / Math.max(1e-3, (performance.now() - t0) / 1000);
        bar.update(done, { fps: fps.toFixed(1) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let nextTenth = 1;
  return {
    update(done) {
      while (total > 0 && done >= (nextTenth * total) / 10) {
        stream.write(`${label}: ${nextTenth * 10}% (${done}/${total} frames)\n`);
        nextTenth++;
      }
    },
    stop() {},
  };
}
