// Types of the cluster-key-slot package (a dependency of ioredis; it ships none): Redis Cluster's
// CRC16 key slot, which honours a {hash tag}.
declare module 'cluster-key-slot' {
  /** The slot (0–16383) of a key. */
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
