-- The default module of a function directory ("index.handler").
local auth = require("lib.auth")

function handler(event)
    return auth.check(event)
end
