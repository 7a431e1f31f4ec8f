"""DFF.CONN for a `redis` connector: DFF's RedisHelper methods (CONTRACT section 12).

Every method is one or a few Redis commands sent to the server thread's connection
(src/connectors/redis-connector.ts), which answers the reply as JSON: strings as text, integers,
nested lists, None. The methods return what DFF's return, which are redis-py's (4.x) replies:
`query`/`run` as redis-py shapes them (strings as bytes, its bool/dict/set/tuple conversions),
and the wrappers DFF decodes (get, hgetall, lrange...) as str.
"""

import datetime

import gitfunc_connector_bridge


def _word(value):
    """An argument as redis-py encodes it: bytes, str, int and float (its repr) only."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("binary values that are not UTF-8 cannot be sent to a redis connector") from None
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("Invalid input of type: '%s'. Convert to a bytes, string, int or float first." % type(value).__name__)
    return repr(value) if isinstance(value, float) else str(value)


def _as_list(value):
    """DFF's as_array: one value or a list/tuple of them."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _flat_words(name, args):
    """`query`'s arguments as redis-py takes them: lists flattened, a dict as its pairs."""
    words = []
    for arg in args:
        if isinstance(arg, dict):
            for key, value in arg.items():
                # redis-py's zadd takes {member: score}; Redis wants the score first.
                words.extend([_word(value), _word(key)] if name == "ZADD" else [_word(key), _word(value)])
        elif isinstance(arg, (list, tuple)):
            words.extend(_word(item) for item in arg)
        else:
            words.append(_word(arg))
    return words


# redis-py method names that are not the command's name.
_COMMAND_OF_METHOD = {"DELETE": "DEL"}


def _as_bytes(reply):
    if isinstance(reply, str):
        return reply.encode("utf-8")
    if isinstance(reply, list):
        return [_as_bytes(item) for item in reply]
    return reply


def _pairs_to_dict(items):
    return dict(zip(items[::2], items[1::2]))


def _score_pairs(items):
    return [(items[i], float(items[i + 1])) for i in range(0, len(items), 2)]


def _parse_info(text):
    """INFO's text as redis-py's dict: numbers parsed, `a=1,b=2` values as dicts."""

    def value_of(value):
        if "," not in value or "=" not in value:
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                return value
        return {k: value_of(v) for k, v in (item.rsplit("=", 1) for item in value.split(","))}

    info = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            info.setdefault("__raw__", []).append(line)
            continue
        key, value = line.rsplit(":", 1) if line.startswith("cmdstat_host:") else line.split(":", 1)
        if key == "module":
            info.setdefault("modules", []).append(value_of(value))
        else:
            info[key] = value_of(value)
    return info


_BOOL = set("AUTH COPY EXPIRE EXPIREAT PEXPIRE PEXPIREAT HEXISTS HMSET MOVE MSETNX PERSIST PSETEX RENAMENX SISMEMBER SMOVE SETEX SETNX".split())
_OK_IS_TRUE = set("FLUSHALL FLUSHDB LSET LTRIM MSET PFMERGE RENAME SAVE SHUTDOWN SLAVEOF REPLICAOF SWAPDB".split())
_SETS = set("SDIFF SINTER SMEMBERS SUNION".split())
_WITH_SCORES = set("ZPOPMAX ZPOPMIN ZINTER ZDIFF ZUNION ZRANGE ZRANGEBYSCORE ZREVRANGE ZREVRANGEBYSCORE".split())


def _redis_py_reply(name, words, reply):
    """A JSON reply as redis-py 4.x returns it for `name` (its response callbacks)."""
    if name == "INFO":
        return _parse_info(reply)
    if name == "CONFIG" and words[:1] and words[0].upper() == "GET":
        return _pairs_to_dict(reply or [])
    reply = _as_bytes(reply)
    upper_words = [word.upper() for word in words]
    if name in _BOOL:
        return bool(reply)
    if name in _OK_IS_TRUE:
        return reply == b"OK"
    if name == "SET":
        return reply if "GET" in upper_words[2:] else (reply == b"OK" or None)
    if name == "PING":
        return reply == b"PONG"
    if name in ("INCRBYFLOAT", "HINCRBYFLOAT"):
        return float(reply)
    if name in ("ZSCORE", "ZINCRBY", "GEODIST"):
        return None if reply is None else float(reply)
    if name == "HGETALL":
        return _pairs_to_dict(reply or [])
    if name in _SETS:
        return set(reply or [])
    if name in _WITH_SCORES and "WITHSCORES" in upper_words and reply:
        return _score_pairs(reply)
    if name in ("BLPOP", "BRPOP"):
        return tuple(reply) if reply else None
    if name in ("SCAN", "SSCAN"):
        return int(reply[0]), reply[1]
    if name == "HSCAN":
        return int(reply[0]), _pairs_to_dict(reply[1])
    if name == "ZSCAN":
        return int(reply[0]), _score_pairs(reply[1])
    if name == "TIME":
        return int(reply[0]), int(reply[1])
    return reply


class RedisHelper:
    """`DFF.CONN(id)` of a redis connector."""

    def __init__(self, connector_id):
        self.connector_id = connector_id

    def _command(self, name, *words):
        """One command; its JSON reply (strings as str)."""
        return gitfunc_connector_bridge.run(self.connector_id, "command", [name] + [_word(word) for word in words])

    def _scan(self, command, key_words, pattern):
        """Every page of a SCAN-like command: yields each page's items."""
        cursor = "0"
        while True:
            cursor, items = self._command(command, *key_words, cursor, "MATCH", pattern, "COUNT", 1000)
            yield items
            if cursor == "0":
                return

    # Any command, as DFF's `query`/`run` (which call redis-py's method of that name).
    def run(self, *args, **kwargs):
        if kwargs:
            raise TypeError("redis connector query() takes the command's own arguments, not redis-py keyword arguments: %s" % ", ".join(kwargs))
        if not args:
            raise TypeError("query() needs a command name")
        name = str(args[0]).upper()
        name = _COMMAND_OF_METHOD.get(name, name)
        words = _flat_words(name, args[1:])
        return _redis_py_reply(name, words, gitfunc_connector_bridge.run(self.connector_id, "command", [name] + words))

    def query(self, *args, **kwargs):
        return self.run(*args, **kwargs)

    def check(self):
        self._command("PING")

    # Server
    def dbsize(self):
        return self._command("DBSIZE")

    def info(self):
        return _parse_info(self._command("INFO"))

    # Keys
    def type(self, key):
        data_type = self._command("TYPE", key)
        return None if data_type == "none" else data_type

    def keys(self, pattern="*", limit=None):
        found = set()
        for items in self._scan("SCAN", [], pattern):
            found.update(items)
            if limit and len(found) > limit:
                return list(found)[0:limit]
        return list(found)

    def exists(self, key):
        return bool(self._command("EXISTS", key))

    def expire(self, key, expires):
        return bool(self._command("EXPIRE", key, max(int(expires), 1)))

    def expireat(self, key, timestamp):
        if isinstance(timestamp, datetime.datetime):
            timestamp = int(timestamp.timestamp())
        return bool(self._command("EXPIREAT", key, timestamp))

    def ttl(self, key):
        return self._command("TTL", key)

    def pttl(self, key):
        return self._command("PTTL", key)

    def delete(self, keys):
        keys = _as_list(keys)
        return self._command("DEL", *keys) if keys else 0

    # Strings
    def set(self, key, value, expires=None, not_exists=False, exists=False, get_old_value=False):
        words = [key, value]
        if expires is not None:
            words += ["EX", int(expires.total_seconds()) if isinstance(expires, datetime.timedelta) else expires]
        if not_exists:
            words.append("NX")
        if exists:
            words.append("XX")
        if get_old_value:
            words.append("GET")
        reply = self._command("SET", *words)
        if get_old_value:
            return _as_bytes(reply)  # DFF returns redis-py's old value undecoded
        return reply == "OK" or None

    def mset(self, key_values):
        if not key_values:
            return False
        return self._command("MSET", *_flat_words("MSET", [key_values])) == "OK"

    def get(self, key):
        return self._command("GET", key)

    def mget(self, keys):
        keys = _as_list(keys)
        if not keys:
            return {}
        return dict(zip(keys, self._command("MGET", *keys)))

    def getset(self, key, value):
        return self._command("GETSET", key, value)

    def incr(self, key):
        return self._command("INCR", key)

    def incrby(self, key, step=1):
        return self._command("INCRBY", key, step)

    # Bits
    def bitop(self, operation, dest, *keys):
        return self._command("BITOP", operation, dest, *keys)

    def bitcount(self, key, start=None, end=None, mode=None):
        words = [key]
        if start is not None and end is not None:
            words += [start, end]
        elif start is not None or end is not None:
            raise ValueError("Both start and end must be specified")
        if mode is not None:
            words.append(mode)
        return self._command("BITCOUNT", *words)

    # Hashes
    def hkeys(self, key, pattern="*", with_values=False):
        result = {}
        for items in self._scan("HSCAN", [key], pattern):
            result.update(_pairs_to_dict(items))
        return result if with_values else list(result.keys())

    def hset(self, key, field=None, value=None, field_values=None):
        words = [] if field is None else [field, value]
        words += _flat_words("HSET", [field_values or {}])
        if not words:
            raise ValueError("'hset' with no key value pairs")
        return self._command("HSET", key, *words)

    def hmset(self, key, field_values):
        if not field_values:
            return False
        return self._command("HMSET", key, *_flat_words("HMSET", [field_values])) == "OK"

    def hsetnx(self, key, field, value):
        return self._command("HSETNX", key, field, value)

    def hget(self, key, field):
        return self._command("HGET", key, field)

    def hmget(self, key, fields):
        fields = _as_list(fields)
        if not fields:
            return {}
        return dict(zip(fields, self._command("HMGET", key, *fields)))

    def hgetall(self, key):
        return _pairs_to_dict(self._command("HGETALL", key))

    def hincr(self, key, field):
        return self._command("HINCRBY", key, field, 1)

    def hincrby(self, key, field, step=1):
        return self._command("HINCRBY", key, field, step)

    def hdel(self, key, field):
        fields = _as_list(field)
        return self._command("HDEL", key, *fields) if fields else 0

    # Lists
    def lpush(self, key, value):
        values = _as_list(value)
        return self._command("LPUSH", key, *values) if values else 0

    def rpush(self, key, value):
        values = _as_list(value)
        return self._command("RPUSH", key, *values) if values else 0

    def lpop(self, key, count=None):
        return self._command("LPOP", key) if count is None else self._command("LPOP", key, count)

    def rpop(self, key, count=None):
        return self._command("RPOP", key) if count is None else self._command("RPOP", key, count)

    def blpop(self, key, timeout=0):
        keys = _as_list(key)
        return self._command("BLPOP", *keys, timeout) if keys else None

    def brpop(self, key, timeout=0):
        keys = _as_list(key)
        return self._command("BRPOP", *keys, timeout) if keys else None

    def rpoplpush(self, key, dest_key=None):
        return self._command("RPOPLPUSH", key, key if dest_key is None else dest_key)

    def llen(self, key):
        return self._command("LLEN", key)

    def lrange(self, key, start=0, stop=-1):
        return self._command("LRANGE", key, start, stop)

    def ltrim(self, key, start, stop):
        return self._command("LTRIM", key, start, stop) == "OK"

    def push(self, *args, **kwargs):
        return self.lpush(*args, **kwargs)

    def pop(self, *args, **kwargs):
        return self.rpop(*args, **kwargs)

    def bpop(self, *args, **kwargs):
        return self.brpop(*args, **kwargs)

    # Sets
    def sadd(self, key, member):
        members = _as_list(member)
        return self._command("SADD", key, *members) if members else 0

    def srem(self, key, member):
        members = _as_list(member)
        return self._command("SREM", key, *members) if members else 0

    def scard(self, key):
        return self._command("SCARD", key)

    def smembers(self, key):
        return list(set(self._command("SMEMBERS", key)))

    def sismember(self, key, member):
        return bool(self._command("SISMEMBER", key, member))

    # Sorted sets
    def zadd(self, key, member_scores):
        return self._command("ZADD", key, *_flat_words("ZADD", [member_scores]))

    def zrem(self, key, member):
        members = _as_list(member)
        return self._command("ZREM", key, *members) if members else 0

    def zcard(self, key):
        return self._command("ZCARD", key)

    def zrange(self, key, start=0, stop=-1, by_score=False, by_lex=False, reverse=False, with_scores=False):
        words = ["ZRANGE", key, start, stop]
        words += ["BYSCORE"] if by_score else ["BYLEX"] if by_lex else []
        words += ["REV"] if reverse else []
        words += ["WITHSCORES"] if with_scores else []
        return self.run(*words)  # DFF returns redis-py's reply: members as bytes

    # Publish
    def publish(self, topic, message):
        return self._command("PUBLISH", topic, message)

    def pub(self, *args, **kwargs):
        return self.publish(*args, **kwargs)

    # DFF's extensions made of simple commands
    def get_pattern(self, pattern):
        keys = self.keys(pattern)
        return self.mget(keys) if keys else None

    def delete_pattern(self, pattern):
        keys = self.keys(pattern)
        return self.delete(keys) if keys else None

    def hget_pattern(self, key, pattern):
        return self.hkeys(key, pattern, with_values=True)

    def lock(self, lock_key, lock_value, max_lock_time):
        return self.set(lock_key, lock_value, expires=max(max_lock_time, 1), not_exists=True)

    def extend_lock_time(self, lock_key, lock_value, max_lock_time):
        if self.get(lock_key) != lock_value:
            raise Exception("Not Lock owner")
        self.expire(lock_key, max(max_lock_time, 1))

    def unlock(self, lock_key, lock_value):
        return self._command("EVAL", _UNLOCK_SCRIPT, 1, lock_key, lock_value)


# Deletes the lock only when it still holds this owner's value.
_UNLOCK_SCRIPT = 'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end'
