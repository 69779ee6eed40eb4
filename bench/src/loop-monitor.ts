/**
 * Preloaded into each benchmarked server (`node --import bench/dist/loop-monitor.js …`): measures the event loop's
 * delay with perf_hooks.monitorEventLoopDelay and answers the bench over the IPC channel it was started with.
 * Messages: 'reset' (start a new window) and 'report' (the window's figures and the process's RSS). Nothing in
 * src/ knows about it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopReport {
  kind: 'report';
  rssBytes: number;
  loopMaxMs: number;
  loopP99Ms: number;
  loopMeanMs: number;
}

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

const send = process.send?.bind(process);
if (send) {
  process.on('message', (message: unknown) => {
    if (message === 'reset') {
      // After a reset the histogram drops its first interval (it has no previous tick to measure from): a
      // block in that interval would go unseen. So the window opens only once a first delay is recorded.
      histogram.reset();
      const opened = () => (histogram.count > 0 ? send({ kind: 'reset' }) : setTimeout(opened, 5));
      setTimeout(opened, 5);
    } else if (message === 'report') {
      const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
      const report: LoopReport = {
        kind: 'report',
        rssBytes: process.memoryUsage.rss(),
        loopMaxMs: ms(histogram.max),
        loopP99Ms: ms(histogram.percentile(99)),
        loopMeanMs: ms(histogram.mean),
      };
      send(report);
    }
  });
  // The channel must not keep the server alive once it has shut down.
  process.channel?.unref();
}
