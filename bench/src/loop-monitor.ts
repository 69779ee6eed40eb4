/**
 * Preloaded into each benchmarked server (`node --import bench/dist/loop-monitor.js …`): measures the event loop's
 * delay with perf_hooks.monitorEventLoopDelay and answers the bench over the IPC channel it was started with.
 * Messages: 'reset' (start a new window) and 'report' (the window's figures and the process's RSS). It also records
 * the garbage collector's pauses in the window, and after each report collects the heap in full (gc() made available
 * through v8.setFlagsFromString, after the figures are taken) to tell the live heap from garbage not yet collected.
 * Nothing in src/ knows about it.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface LoopReport {
  kind: 'report';
  rssBytes: number;
  loopMaxMs: number;
  loopP99Ms: number;
  loopMeanMs: number;
  /** The longest garbage-collection pause in the window, and all of them together. */
  gcMaxMs: number;
  gcTotalMs: number;
  /** The heap in use after a full collection at the end of the window: what is live. */
  liveHeapBytes: number;
}

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

let gcMaxMs = 0;
let gcTotalMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMaxMs = Math.max(gcMaxMs, entry.duration);
    gcTotalMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

const send = process.send?.bind(process);
if (send) {
  process.on('message', (message: unknown) => {
    if (message === 'reset') {
      // After a reset the histogram drops its first interval (it has no previous tick to measure from): a
      // block in that interval would go unseen. So the window opens only once a first delay is recorded.
      histogram.reset();
      gcMaxMs = 0;
      gcTotalMs = 0;
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
        gcMaxMs,
        gcTotalMs,
        liveHeapBytes: 0,
      };
      collect();
      report.liveHeapBytes = process.memoryUsage().heapUsed;
      send(report);
    }
  });
  // The channel must not keep the server alive once it has shut down.
  process.channel?.unref();
}
