-- bench/cache.sh: a wrk script for the working-set targets. Each request is a GET of one of
-- CACHE_WS_OBJECTS paths, /ws/00000.bin, /ws/00001.bin, ..., chosen uniformly at random.
-- The requests are formatted once, in init, so that wrk's cost per request stays small.
local n = tonumber(os.getenv("CACHE_WS_OBJECTS") or "") or 2000
local requests = {}

function init(args)
    for i = 0, n - 1 do
        requests[i + 1] = wrk.format("GET", string.format("/ws/%05d.bin", i))
    end
    math.randomseed(os.time())
end

function request()
    return requests[math.random(n)]
end
