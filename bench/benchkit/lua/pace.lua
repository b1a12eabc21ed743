-- Open-loop pacing: each thread hands out send slots at bench_rate / threads per second.
-- A connection that finishes early waits for its slot; one that is late sends at once, so a
-- stall is caught up (up to the connection count) instead of silently lowering the rate.
-- Needs bench_rate and bench_threads_total set by the caller. LuaJIT's ffi gives a clock.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")
local interval_ms = 1000.0 * bench_threads_total / bench_rate
local next_slot = nil

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000.0 + tonumber(ts.tv_nsec) / 1e6
end

function delay()
  local now = now_ms()
  if next_slot == nil then
    next_slot = now
  end
  local slot = next_slot
  next_slot = next_slot + interval_ms
  local wait = slot - now
  if wait <= 0 then
    return 0
  end
  return math.floor(wait + 0.5)
end
