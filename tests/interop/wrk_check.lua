-- wrk script for run_nginx.sh and tap_concurrent.sh: every response must be 200 with exactly
-- the body of the file named by the first script argument (wrk URL -s wrk_check.lua -- FILE).
-- done() prints "good N bad M" summed over the threads.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    local f = assert(io.open(args[1], "rb"))
    want = f:read("*a")
    f:close()
    good = 0
    bad = 0
end

function response(status, headers, body)
    if status == 200 and body == want then
        good = good + 1
    else
        bad = bad + 1
    end
end

function done(summary, latency, requests)
    local g, b = 0, 0
    for _, t in ipairs(threads) do
        g = g + t:get("good")
        b = b + t:get("bad")
    end
    io.write(string.format("good %d bad %d\n", g, b))
end
