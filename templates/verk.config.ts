// verk configuration. Layers: built-in defaults < this file < VERK_* / REDIS_URL environment
// variables < command-line flags. Durations take "250ms", "5s", "10m" or milliseconds.
// Leave REDIS_URL to the environment (it may hold a password; verk never prints it).
export default {
  // Queues with their concurrency per worker process; a queue may set its own job timeout:
  //   queues: { default: 10, mail: { concurrency: 5, timeout: '30s' } },
  queues: '{{QUEUES}}',
  // Job handlers: jobs/Mailers/Welcome.ts runs jobs of class "Mailers.Welcome".
  handlers: './jobs',
  // SIGTERM waits this long for running jobs, then hands the rest back to the front of their
  // queues. Keep it below the platform's grace period (Kubernetes: terminationGracePeriodSeconds − 5 s).
  shutdownTimeout: '{{SHUTDOWN_TIMEOUT}}',
  // Periodic jobs, enqueued once per tick by the whole fleet (docs/cron.md in verk-ts):
  //   cron: { nightly: { class: 'Reports.Nightly', schedule: '0 3 * * *', tz: 'Europe/Berlin' } },
  // More settings (see `verk work --help`): processes (default one per CPU core), jobTimeout,
  // heartbeatInterval, nodeTtl, healthPort (/livez, /readyz, /metrics; the Dockerfile sets
  // VERK_HEALTH_PORT={{HEALTH_PORT}}), logFormat, logLevel.
};
