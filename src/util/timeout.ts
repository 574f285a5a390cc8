// A bound on one promise: it rejects with `message` once `ms` pass (the timer is cleared as soon
// as the promise settles). Every local "no reply within …" of the project goes through here.
export function withTimeout<T>(p: Promise<T>, ms: number, message = `no reply within ${ms}ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
