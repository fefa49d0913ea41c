-- A code directory: index.lua (the default module) requires lib/util.lua.
local util = require("lib.util")

function handler(event)
    event.request.uri = util.lower(event.request.uri)
    return event.request
end
