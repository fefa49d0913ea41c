-- Required as "lib.util" from index.lua.
local M = {}

function M.lower(s)
    return string.lower(s)
end

return M
