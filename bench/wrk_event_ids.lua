-- wrk script for bench/bench_serve.sh: GET /api/events/{id} with ids drawn at random (seeded)
-- from the file named by $SG_BENCH_IDS (one id a line, written by bench_serve_store --fill).
local ids = {}
for line in io.lines(os.getenv("SG_BENCH_IDS")) do
  ids[#ids + 1] = line
end
math.randomseed(42)

request = function()
  return wrk.format("GET", "/api/events/" .. ids[math.random(#ids)])
end
