-- A module in a subdirectory, named "lib.auth" by require and by a handler.
local M = {}

function M.check(event)
    return event.request
end

function check(event)
    return M.check(event)
end

return M
