import { RedisScript } from './redisScript.js';

/**
 * The room state's writes, each one atomic in Redis: a check and its write never interleave
 * with another node's. Keys of one room share a hash tag (`{room}`), so they also run on a
 * Redis Cluster. KEYS: 1 members, 2 stage, 3 hands, 4 producers (all hashes but hands, a set),
 * 5 attendance (a list of JSON room events, appended to only while the room has members).
 */

/** Entries an attendance list keeps at most (MAX_ATTENDANCE_ENTRIES). */
const KEEP = `
local function keep(entry, max)
  if entry ~= '' and redis.call('LLEN', KEYS[5]) < tonumber(max) then redis.call('RPUSH', KEYS[5], entry) end
end
`;

/** Sets stage and hands membership from a record: ARGV onStage, handRaised ('1' or '0'). */
const INDEX = `
local function index(id, record, onStage, hand)
  if onStage == '1' then redis.call('HSET', KEYS[2], id, record) else redis.call('HDEL', KEYS[2], id) end
  if hand == '1' then redis.call('SADD', KEYS[3], id) else redis.call('SREM', KEYS[3], id) end
end
`;

/**
 * ARGV: id, record, maxParticipants, onStage, hand, started entry, joined entry, max entries
 * (entries '' for none). Returns {1, previousNode, started, rejoined} or {0, 'full'}.
 */
export const JOIN = new RedisScript(`${INDEX}${KEEP}
local previous = redis.call('HGET', KEYS[1], ARGV[1])
local size = redis.call('HLEN', KEYS[1])
if not previous and size >= tonumber(ARGV[3]) then return {0, 'full'} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
index(ARGV[1], ARGV[2], ARGV[4], ARGV[5])
local started = 0
if size == 0 then
  started = 1
  keep(ARGV[6], ARGV[8])
end
local node = ''
local rejoined = 0
if previous then
  node = cjson.decode(previous).node
  rejoined = 1
else
  keep(ARGV[7], ARGV[8])
end
return {1, node, started, rejoined}
`);

/** ARGV: id, record, node, onStage, hand. Only the node holding the member may rewrite it. */
export const UPDATE = new RedisScript(`${INDEX}
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if not previous or cjson.decode(previous).node ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
index(ARGV[1], ARGV[2], ARGV[4], ARGV[5])
return 1
`);

/**
 * ARGV: id, node, left entry ('' for none), max entries. Removes the member and their producers;
 * the last one out removes every key. Returns {left, finished} (1 or 0).
 */
export const LEAVE = new RedisScript(`${KEEP}
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if not previous or cjson.decode(previous).node ~= ARGV[2] then return {0, 0} end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
local producers = redis.call('HGETALL', KEYS[4])
for i = 1, #producers, 2 do
  local producer = cjson.decode(producers[i + 1])
  if producer.participantId == ARGV[1] and producer.node == ARGV[2] then redis.call('HDEL', KEYS[4], producers[i]) end
end
keep(ARGV[3], ARGV[4])
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  return {1, 1}
end
return {1, 0}
`);

/** ARGV: entry, max entries. Only while the room has members, so no list outlives its room. */
export const APPEND_ATTENDANCE = new RedisScript(`${KEEP}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
keep(ARGV[1], ARGV[2])
return 1
`);

/** ARGV: producerId, record, participantId, node. Only for a member held by that node. */
export const PRODUCER_ADDED = new RedisScript(`
local member = redis.call('HGET', KEYS[1], ARGV[3])
if not member or cjson.decode(member).node ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
return 1
`);

/** ARGV: producerId, record or '' (remove), node. Only the node the producer is sent to. */
export const PRODUCER_CHANGED = new RedisScript(`
local previous = redis.call('HGET', KEYS[4], ARGV[1])
if not previous or cjson.decode(previous).node ~= ARGV[3] then return 0 end
if ARGV[2] == '' then redis.call('HDEL', KEYS[4], ARGV[1]) else redis.call('HSET', KEYS[4], ARGV[1], ARGV[2]) end
return 1
`);

/** Listener's summary in one round trip: {members, hands raised, on-stage records}. */
export const SUMMARY = new RedisScript(`
return {redis.call('HLEN', KEYS[1]), redis.call('SCARD', KEYS[3]), redis.call('HVALS', KEYS[2])}
`);
