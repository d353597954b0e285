/**
 * The Lua scripts of the Redis bus (see redis-bus.ts). Each runs atomically on the
 * server: fencing an ack or a retry on the entry still being this subscriber's with the
 * same delivery count, and moving due retries from the delayed set to the retry stream.
 */

/** KEYS: stream; ARGV: group, subscriber, id, deliveries. Acks only if still ours. */
export const FENCED_ACK = `
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] or tonumber(p[1][4]) ~= tonumber(ARGV[4]) then return 0 end
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])`;

/** KEYS: stream, delayed set; ARGV: group, subscriber, id, deliveries, delay ms, member. */
export const FENCED_RETRY = `
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] or tonumber(p[1][4]) ~= tonumber(ARGV[4]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[6])
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])`;

/** KEYS: delayed set, retry stream; ARGV: limit. Moves due retries to the retry stream. */
export const MOVE_DUE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local r = cjson.decode(member)
  redis.call('XADD', KEYS[2], '*', 'event', r.event, 'attempt', r.attempt)
  redis.call('ZREM', KEYS[1], member)
end
return #due`;
