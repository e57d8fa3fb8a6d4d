-- wrk script for tests/e2e/load.sh: rotates GET /api/events/{id} (ids drawn at random, seeded,
-- from the file named by $SG_IDS), /api/anomalies and /api/stats. Errors are read from wrk's
-- own summary ("Non-2xx or 3xx responses", "Socket errors").
local ids = {}
for line in io.lines(os.getenv("SG_IDS")) do
  ids[#ids + 1] = line
end
math.randomseed(7)
local n = 0

request = function()
  n = n + 1
  local k = n % 3
  if k == 0 then
    return wrk.format("GET", "/api/events/" .. ids[math.random(#ids)])
  elseif k == 1 then
    return wrk.format("GET", "/api/anomalies?limit=50")
  end
  return wrk.format("GET", "/api/stats")
end
