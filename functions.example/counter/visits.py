"""Script counter__visits: a visit counter kept in Redis, through the `redis` connector.

The connector (its host, port and password) is declared in gitfunc.yaml; the script only names
it. Without a Redis on 127.0.0.1:6379 a call fails at once with the connector's error, e.g.
`ConnectorError: redis: cannot connect to 127.0.0.1:6379 (ECONNREFUSED)`.
"""

KEY_PREFIX = 'gitfunc-example:visits:'


@DFF.API('Count a visit of a page', category='counter')
def count_visit(page='home'):
    """GET /api/v1/al/count-visit/simplified?page=docs  ->  {"page": "docs", "visits": 3}"""
    visits = DFF.CONN('redis').incr(KEY_PREFIX + page)
    return {'page': page, 'visits': visits}


@DFF.API('Visits of every page counted so far', category='counter')
def visits():
    """GET /api/v1/al/visits/simplified  ->  {"docs": 3, "home": 12}"""
    redis = DFF.CONN('redis')
    keys = sorted(redis.keys(KEY_PREFIX + '*'))
    counts = redis.mget(keys)
    return {key[len(KEY_PREFIX):]: int(counts[key] or 0) for key in keys}
