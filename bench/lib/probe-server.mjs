// Receives the handlers' "job <id> started at <t>" datagrams on a loopback UDP port and lets the
// latency suite wait for the one it is expecting.
import dgram from 'node:dgram';

export async function startProbeServer() {
  const socket = dgram.createSocket('udp4');
  const waiters = new Map();
  socket.on('message', (msg) => {
    const [id, t] = msg.toString().split(' ');
    const w = waiters.get(id);
    if (w) {
      waiters.delete(id);
      w(Number(t));
    }
  });
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    /** Resolves with the handler's start time of job `id`, or rejects after `timeoutMs`. */
    waitFor(id, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(String(id));
          reject(new Error(`latency job ${id} did not start within ${timeoutMs}ms`));
        }, timeoutMs);
        waiters.set(String(id), (t) => {
          clearTimeout(timer);
          resolve(t);
        });
      });
    },
    close: () => socket.close(),
  };
}
