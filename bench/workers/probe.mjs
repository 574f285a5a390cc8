// The job body shared by every system's bench handler: a no-op, except for latency jobs
// ({ lat: <id> }), whose start time (wall clock, sub-ms, comparable across processes) is sent
// to the bench as one loopback UDP datagram, so measuring adds no Redis command, and jittered
// I/O jobs ({ sleepMs: <max> }), which wait on a timer of a random 0..max ms (high-concurrency suite).
import dgram from 'node:dgram';

const port = Number(process.env.BENCH_PROBE_PORT || 0);
let socket;

/** Call first thing in a handler with the job's data object (or undefined); return what it returns. */
export function handle(data) {
  if (data === undefined || data === null) return;
  if (data.sleepMs !== undefined) return new Promise((r) => setTimeout(r, Math.random() * data.sleepMs));
  if (data.lat === undefined) return;
  const t = performance.timeOrigin + performance.now();
  if (!port) return;
  if (!socket) {
    socket = dgram.createSocket('udp4');
    socket.unref();
  }
  socket.send(`${data.lat} ${t}`, port, '127.0.0.1');
}
