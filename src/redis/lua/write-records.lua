--[[
  Writes one batch of task records atomically (RedisTaskRecords): the records, then each trim,
  then the byte budget; the same rules as SqliteTaskRecords. Its keys are built from the prefix
  argument, not passed as KEYS: one Redis node holds them all (a single Redis, not a cluster).

  ARGV[1] key prefix
  ARGV[2] the batch as JSON:
    records: [{id, origin, originId, finished (bool), ended (ms), bytes, row (JSON text)}]
    ifAbsent: true to leave a record that exists untouched (a queued record written after its job)
    trims: [{origin, originId, keep, since (ms, absent: none)}]
    budget: {maxBytes, held: {origin: ms}} (an origin absent from held: none held) or absent

  Keys:
    <prefix>record:<id>                    hash: seq, row, bytes, origin, originId, finished (1/0), ended
    <prefix>records:seq                    the last seq given (INCR)
    <prefix>records:all                    zset id by seq: every record
    <prefix>records:origin:<o>:<originId>  zset id by seq: one API's or cron job's records
    <prefix>records:finished               zset id by seq: finished records, which trims and the budget may delete
    <prefix>records:bytes                  the sum of every record's bytes

  Returns {deleted, deletedEarly} of the budget.
]]
local prefix = ARGV[1]
local batch = cjson.decode(ARGV[2])
local seqKey = prefix .. 'records:seq'
local allKey = prefix .. 'records:all'
local finishedKey = prefix .. 'records:finished'
local bytesKey = prefix .. 'records:bytes'

local function recordKey(id)
  return prefix .. 'record:' .. id
end

local function originKey(origin, originId)
  return prefix .. 'records:origin:' .. origin .. ':' .. originId
end

local function remove(id)
  local key = recordKey(id)
  local fields = redis.call('HMGET', key, 'bytes', 'origin', 'originId')
  if not fields[1] then return end
  redis.call('ZREM', allKey, id)
  redis.call('ZREM', finishedKey, id)
  redis.call('ZREM', originKey(fields[2], fields[3]), id)
  redis.call('DECRBY', bytesKey, fields[1])
  redis.call('DEL', key)
end

for _, record in ipairs(batch.records) do
  local key = recordKey(record.id)
  local old = redis.call('HMGET', key, 'seq', 'bytes')
  if not (old[1] and batch.ifAbsent) then
    -- An overwritten record keeps its place (its seq), as SQLite's upsert keeps its row.
    local seq = old[1] or redis.call('INCR', seqKey)
    if old[2] then redis.call('DECRBY', bytesKey, old[2]) end
    redis.call('HSET', key, 'seq', seq, 'row', record.row, 'bytes', record.bytes, 'origin', record.origin,
      'originId', record.originId, 'finished', record.finished and 1 or 0, 'ended', record.ended)
    redis.call('ZADD', allKey, seq, record.id)
    redis.call('ZADD', originKey(record.origin, record.originId), seq, record.id)
    if record.finished then
      redis.call('ZADD', finishedKey, seq, record.id)
    else
      redis.call('ZREM', finishedKey, record.id)
    end
    redis.call('INCRBY', bytesKey, record.bytes)
  end
end

-- Finished records of one origin beyond the newest `keep` of them, unless they ended at or
-- after `since`; queued and running ones stay.
for _, trim in ipairs(batch.trims) do
  local finished = 0
  for _, id in ipairs(redis.call('ZREVRANGE', originKey(trim.origin, trim.originId), 0, -1)) do
    local fields = redis.call('HMGET', recordKey(id), 'finished', 'ended')
    if fields[1] == '1' then
      finished = finished + 1
      if finished > trim.keep and (trim.since == nil or tonumber(fields[2]) < trim.since) then remove(id) end
    end
  end
end

-- Deletes the oldest finished records that `eligible` accepts until the total fits the budget
-- (or none is left); returns how many.
local CHUNK = 64
local function fit(eligible)
  local excess = tonumber(redis.call('GET', bytesKey) or '0') - batch.budget.maxBytes
  if excess <= 0 then return 0 end
  local victims, freed, start = {}, 0, 0
  while freed < excess do
    local ids = redis.call('ZRANGE', finishedKey, start, start + CHUNK - 1)
    for _, id in ipairs(ids) do
      local fields = redis.call('HMGET', recordKey(id), 'bytes', 'origin', 'ended')
      if eligible(fields[2], tonumber(fields[3])) then
        victims[#victims + 1] = id
        freed = freed + tonumber(fields[1])
        if freed >= excess then break end
      end
    end
    if #ids < CHUNK then break end
    start = start + CHUNK
  end
  for _, id in ipairs(victims) do remove(id) end
  return #victims
end

local deleted, deletedEarly = 0, 0
if batch.budget then
  deleted = fit(function(origin, ended)
    local since = batch.budget.held[origin]
    return since == nil or ended < since
  end)
  -- Records past keepEndedSince were not enough: the budget is too small for the load.
  deletedEarly = fit(function() return true end)
end
return {deleted + deletedEarly, deletedEarly}
