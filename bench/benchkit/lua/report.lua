-- Prepended to every bench script: remembers the threads and prints one JSON line at the end.
-- A script may define bench_setup(thread, index) and keep per-thread counters named
-- `granted` and `failed` (numbers), which are summed here.
local bench_threads = {}

function setup(thread)
  table.insert(bench_threads, thread)
  thread:set("granted", 0)
  thread:set("failed", 0)
  if bench_setup then
    bench_setup(thread, #bench_threads)
  end
end

function done(summary, latency, requests)
  local granted, failed = 0, 0
  for _, t in ipairs(bench_threads) do
    granted = granted + (t:get("granted") or 0)
    failed = failed + (t:get("failed") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"granted":%d,"failed":%d,"mean_us":%.1f,"max_us":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    granted, failed, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
