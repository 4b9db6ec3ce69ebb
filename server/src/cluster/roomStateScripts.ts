import { RedisScript } from './redisScript.js';

/**
 * The room state's writes, each one atomic in Redis: a check and its write never interleave
 * with another node's. Keys of one room share a hash tag (`{room}`), so they also run on a
 * Redis Cluster. KEYS: 1 members, 2 stage, 3 hands, 4 producers (all hashes but hands, a set),
 * 5 attendance (a list of JSON room events, appended to only while the room has members),
 * 6 meta (hash: policy, and its source: default, token or moderator), 7 lobby (hash sub → JSON
 * entry; it may outlive the room's members: people wait for a moderator to come), 8 admitted,
 * 9 bans (sets of subs), 10 grace (hash sub → ms until which they may come back when locked).
 * Every key but the lobby goes with the last member; Redis drops an emptied lobby hash itself.
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
 * (entries '' for none), role, policy claim (''), preadmitted ('1'/'0'), default policy, now
 * (ms). Admission as in sharedRoomState.ts's `Admission`. Returns {1, previousNode, started,
 * rejoined, policy, policy changed from ('')} or {0, 'banned' | 'locked' | 'lobby' | 'full'}.
 */
export const JOIN = new RedisScript(`${INDEX}${KEEP}
local previous = redis.call('HGET', KEYS[1], ARGV[1])
local size = redis.call('HLEN', KEYS[1])
if redis.call('SISMEMBER', KEYS[9], ARGV[1]) == 1 then return {0, 'banned'} end
local policy = redis.call('HGET', KEYS[6], 'policy')
local source = redis.call('HGET', KEYS[6], 'source')
if size == 0 or not policy then
  policy = ARGV[12]
  source = 'default'
end
local changedFrom = ''
if ARGV[9] == 'moderator' and source == 'default' then
  if ARGV[10] ~= '' and ARGV[10] ~= policy then
    if size > 0 then changedFrom = policy end
    policy = ARGV[10]
  end
  source = 'token'
end
if not previous and ARGV[9] ~= 'moderator' then
  local graceUntil = tonumber(redis.call('HGET', KEYS[10], ARGV[1]) or '0')
  local returning = graceUntil >= tonumber(ARGV[13])
  if policy == 'locked' and not returning then return {0, 'locked'} end
  if policy == 'lobby' and not returning and ARGV[11] ~= '1' and redis.call('SISMEMBER', KEYS[8], ARGV[1]) == 0 then
    return {0, 'lobby'}
  end
end
if not previous and size >= tonumber(ARGV[3]) then return {0, 'full'} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
index(ARGV[1], ARGV[2], ARGV[4], ARGV[5])
redis.call('HSET', KEYS[6], 'policy', policy, 'source', source)
redis.call('HDEL', KEYS[10], ARGV[1])
redis.call('HDEL', KEYS[7], ARGV[1])
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
return {1, node, started, rejoined, policy, changedFrom}
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
 * ARGV: id, node, left entry ('' for none), max entries, grace until (ms, '' for none). Removes the member and their producers;
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
if ARGV[5] ~= '' then redis.call('HSET', KEYS[10], ARGV[1], ARGV[5]) end
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[8], KEYS[9], KEYS[10])
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

/** ARGV: policy. Only in a live room; returns {1, previous policy} or {0, ''}. */
export const SET_POLICY = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end
local previous = redis.call('HGET', KEYS[6], 'policy') or ''
redis.call('HSET', KEYS[6], 'policy', ARGV[1], 'source', 'moderator')
return {1, previous}
`);

/** ARGV: participant id, or '' to clear. Only in a live room (the meta hash goes with it). */
export const SET_SPOTLIGHT = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '' then redis.call('HDEL', KEYS[6], 'spotlight') else redis.call('HSET', KEYS[6], 'spotlight', ARGV[1]) end
return 1
`);

/** ARGV: sub. Only in a live room (the ban list goes with it). */
export const BAN = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SADD', KEYS[9], ARGV[1])
redis.call('SREM', KEYS[8], ARGV[1])
redis.call('HDEL', KEYS[10], ARGV[1])
return 1
`);

/** ARGV: sub, entry, node. Someone waiting again through the same node keeps their place. */
export const ENTER_LOBBY = new RedisScript(`
local existing = redis.call('HGET', KEYS[7], ARGV[1])
if existing and cjson.decode(existing).node == ARGV[3] then return existing end
redis.call('HSET', KEYS[7], ARGV[1], ARGV[2])
return ARGV[2]
`);

/** ARGV: sub, node. Only the node holding the waiting connection removes its entry. */
export const LEAVE_LOBBY = new RedisScript(`
local existing = redis.call('HGET', KEYS[7], ARGV[1])
if not existing or cjson.decode(existing).node ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[7], ARGV[1])
return 1
`);

/**
 * ARGV: 'admitted' or 'refused', then the subs ('*' alone for everyone waiting). Returns the
 * entries decided: out of the lobby, into the admitted set or the ban list.
 */
export const DECIDE_LOBBY = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local targets = {}
if ARGV[2] == '*' then
  targets = redis.call('HKEYS', KEYS[7])
else
  for i = 2, #ARGV do targets[#targets + 1] = ARGV[i] end
end
local decided = {}
for _, sub in ipairs(targets) do
  local entry = redis.call('HGET', KEYS[7], sub)
  if entry then
    redis.call('HDEL', KEYS[7], sub)
    if ARGV[1] == 'admitted' then redis.call('SADD', KEYS[8], sub) else redis.call('SADD', KEYS[9], sub) end
    decided[#decided + 1] = entry
  end
end
return decided
`);
