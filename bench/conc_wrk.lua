-- wrk script for bench/run_concurrent.sh: prints one key=value line with the run's figures and
-- whether every completed response could have been whole. It defines no response() callback,
-- so wrk does not hand bodies to Lua (that would cost a copy of every body); instead wrk's own
-- parser counts a request only once Content-Length bytes of body arrived, and done() checks
-- that the bytes read cover SIZE bytes of body per completed request and that no request got
-- a non-2xx status or a socket error.   wrk ... -s bench/conc_wrk.lua URL -- SIZE
-- init() runs in each thread's Lua state, done() in the main one: done() asks a thread.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    size = tonumber(args[1]) or 0
end

function done(summary, latency, requests)
    local e = summary.errors
    local secs = summary.duration / 1e6
    local size = threads[1]:get("size")
    local whole = summary.bytes >= summary.requests * size
    local ok = whole and e.status == 0 and e.connect == 0 and e.read == 0 and e.write == 0
        and e.timeout == 0 and summary.requests > 0
    io.write(string.format(
        "wrkstat ok=%d requests=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f bytes=%d " ..
        "err_status=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
        ok and 1 or 0, summary.requests, summary.requests / secs,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.bytes,
        e.status, e.connect, e.read, e.write, e.timeout))
end
