-- bench/cache.sh: a viewer-response function that adds one response header; it runs on
-- every response, cache hits included (the same function as bench/lua/viewer_response.lua).
function handler(event)
    event.response.headers["x-hook-resp"] = {value = "1"}
    return event.response
end
