// The job body shared by every system's bench handler: a no-op, except for latency jobs
// ({ lat: <id> }), whose start time (wall clock, sub-ms, comparable across processes) is sent
// to the bench as one loopback UDP datagram, so measuring adds no Redis command.
import dgram from 'node:dgram';

const port = Number(process.env.BENCH_PROBE_PORT || 0);
let socket;

/** Call first thing in a handler with the job's data object (or undefined). */
export function handle(data) {
  if (data === undefined || data === null || data.lat === undefined) return;
  const t = performance.timeOrigin + performance.now();
  if (!port) return;
  if (!socket) {
    socket = dgram.createSocket('udp4');
    socket.unref();
  }
  socket.send(`${data.lat} ${t}`, port, '127.0.0.1');
}
