"""DFF.CONN for `datakit` and `dataway` connectors: DFF's DataKit and DataWay methods (CONTRACT section 12).

Points are written as InfluxDB line protocol, built here the way DFF builds it (escaping,
sorted tags and fields, `i` integers, timestamps to nanoseconds), and POSTed by the server
thread to `/v1/write/<category>` (src/connectors/line-protocol-connector.ts), 100 points a
request. Each method returns DFF's `(status_code, result)`; a status of 400 or more raises
ConnectorError, as DFF's clients raise. A DataWay's token never enters Python.
"""

import json
import re
import time

import gitfunc_connector_bridge

# A timestamp below this is in s, ms or us: multiplied by 1000 until it is in ns (at most 3 times).
_MIN_NS_TIMESTAMP = 1000000000000000000
# Points per request, as DFF's clients send them.
_WRITE_SIZE = 100

_WHITESPACE = re.compile(r"\s")
_TAG_OR_FIELD_KEY_SPECIALS = re.compile(r"([,= ])")
_MEASUREMENT_SPECIALS = re.compile(r"([, ])")
_STRING_SPECIALS = re.compile(r'(["\\])')


def to_ns(timestamp=None):
    """A timestamp in s, ms, us or ns (or now, when none) as whole nanoseconds."""
    timestamp = int(timestamp or time.time())
    for _ in range(3):
        if timestamp >= _MIN_NS_TIMESTAMP:
            break
        timestamp *= 1000
    return timestamp


def _normalized(key):
    """Whitespace as plain spaces, no trailing backslash (it would escape the separator)."""
    return _WHITESPACE.sub(" ", key).rstrip("\\")


def _escaped(text, specials):
    return specials.sub(r"\\\1", text)


def _type_error(name, expected, value):
    return TypeError("`%s` should be %s, got %s (repr: `%r`)" % (name, expected, type(value).__name__, value))


def _field_value(key, value):
    """A field value in line protocol: strings quoted, ints with `i`, bools lower case, arrays."""
    if isinstance(value, str):
        return '"%s"' % _escaped(value, _STRING_SPECIALS)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return "%di" % value
    if isinstance(value, float):
        return str(value)
    if isinstance(value, list):
        for element in value:
            if type(element) is not type(value[0]):
                raise TypeError("Field `%s` got a type-mixed array. repr(v)=`%r`" % (key, value))
            if not isinstance(element, (str, bool, int, float)):
                raise TypeError("Field `%s` contains a non-basic type element. repr(v)=`%r`" % (key, value))
        return "[%s]" % ",".join(_field_value(key, element) for element in value)
    raise TypeError("Field `%s` got an invalid data type. type(v)=`%s`, repr(v)=`%r`" % (key, type(value), value))


def _checked_point(point):
    """DFF's checks on one point (tags of str, fields a dict, a numeric timestamp)."""
    if not isinstance(point, dict):
        raise _type_error("data", "a dict", point)
    measurement = point.get("measurement")
    if not isinstance(measurement, str):
        raise _type_error("measurement", "a str or unicode", measurement)
    tags = point.get("tags") or {}
    if not isinstance(tags, dict):
        raise _type_error("tags", "a dict", tags)
    for key, value in tags.items():
        if not isinstance(value, str):
            raise _type_error('Value of `tags["%s"]`: %s' % (key, value), "a str or unicode", value)
    fields = point.get("fields")
    if not isinstance(fields, dict):
        raise _type_error("fields", "a dict", fields)
    timestamp = point.get("timestamp")
    if timestamp and (isinstance(timestamp, bool) or not isinstance(timestamp, (int, float))):
        raise _type_error("timestamp", "an int or float", timestamp)
    return measurement, tags, fields, timestamp


def line_of(point):
    """One point as a line of line protocol."""
    measurement, tags, fields, timestamp = _checked_point(point)
    line = _escaped(_normalized(measurement), _MEASUREMENT_SPECIALS)
    for key in sorted(tags):
        tag_key = _escaped(_normalized(key), _TAG_OR_FIELD_KEY_SPECIALS)
        tag_value = _escaped(_normalized(tags[key]), _TAG_OR_FIELD_KEY_SPECIALS)
        if tag_key and tag_value:
            line += ",%s=%s" % (tag_key, tag_value)
    field_set = []
    for key in sorted(fields):
        if fields[key] is None:
            continue
        field_key = _escaped(_normalized(key), _TAG_OR_FIELD_KEY_SPECIALS)
        if field_key:
            field_set.append("%s=%s" % (field_key, _field_value(key, fields[key])))
    return "%s %s %d" % (line, ",".join(field_set), to_ns(timestamp))


def line_protocol(points):
    """Points (a dict or a list of dicts) as a line protocol body."""
    return "\n".join(line_of(point) for point in points)


def _points(data):
    """DFF copies the points through JSON first: keys become str, tuples lists."""
    points = data if isinstance(data, (list, tuple)) else [data]
    return json.loads(json.dumps(list(points)))


def _unpacked(response, dict_output):
    """DFF's unwrapped query result: {'series': [...]}, each series as dicts with `dict_output`."""
    series_list = response["content"][0]["series"] or []
    if not dict_output:
        return {"series": series_list}
    dicted = []
    for series in series_list:
        tags = series.get("tags") or {}
        rows = []
        for values in series["values"]:
            row = dict(zip(series["columns"], values))
            tags_key = "tags"
            while tags_key in row:  # a column may be called `tags`
                tags_key = "_" + tags_key
            row[tags_key] = tags
            rows.append(row)
        dicted.append(rows)
    return {"series": dicted}


class _LineProtocolHelper:
    """What DFF's DataKit and DataWay clients share: writes and DQL queries."""

    def __init__(self, connector_id):
        self.connector_id = connector_id

    def _source(self):
        return None

    def _write_points(self, category, data):
        points = _points(data)
        answer = None
        for start in range(0, len(points), _WRITE_SIZE):
            body = line_protocol(points[start : start + _WRITE_SIZE])
            answer = gitfunc_connector_bridge.run(self.connector_id, "write", [category, body, self._source()])
        return None if answer is None else tuple(answer)

    def write_by_category(self, category, measurement, tags=None, fields=None, timestamp=None):
        return self._write_points(category, {"measurement": measurement, "tags": tags, "fields": fields, "timestamp": timestamp})

    def write_by_category_many(self, category, data):
        return self._write_points(category, data)

    def write_metric(self, measurement, tags=None, fields=None, timestamp=None):
        return self.write_by_category("metric", measurement, tags, fields, timestamp)

    def write_metric_many(self, data):
        return self.write_by_category_many("metric", data)

    def write_logging(self, measurement, tags=None, fields=None, timestamp=None):
        return self.write_by_category("logging", measurement, tags, fields, timestamp)

    def write_logging_many(self, data):
        return self.write_by_category_many("logging", data)

    # DFF's aliases
    def write_point(self, *args, **kwargs):
        return self.write_metric(*args, **kwargs)

    def write_points(self, *args, **kwargs):
        return self.write_metric_many(*args, **kwargs)

    def write_metrics(self, *args, **kwargs):
        return self.write_metric_many(*args, **kwargs)

    def _query(self, dql, all_series, dict_output, raw, token, options):
        query = {"query": dql}
        query.update({key: value for key, value in options.items() if value is not None})
        # DFF pages through every series on request: at most 20 pages of metrics, 5 of others.
        pages = (20 if dql.strip().startswith("M::") else 5) if all_series else 1
        status, merged = None, {}
        for page in range(pages):
            if all_series:
                query["slimit"] = 500
                query["soffset"] = 500 * page
            request = {"queries": [query], "mask_visible": True}
            if token:
                request["token"] = token
            status, response = gitfunc_connector_bridge.run(self.connector_id, "query", [request])
            if not isinstance(response, dict):
                return status, response  # not JSON: returned as it came
            series = response["content"][0].get("series") or []
            response["content"][0]["series"] = series
            if "content" in merged:
                merged["content"][0]["series"].extend(series)
            else:
                merged.update(response)
            if not all_series or len(series) < query["slimit"]:
                break
        return status, (merged if raw else _unpacked(merged, dict_output))


class DataKitHelper(_LineProtocolHelper):
    """`DFF.CONN(id)` of a datakit connector; `source` names the writes' input (config `source` by default)."""

    def __init__(self, connector_id, source=None):
        super().__init__(connector_id)
        self.source = source

    def _source(self):
        return self.source

    def query(self, dql, all_series=False, dict_output=False, raw=False, token=None, **kwargs):
        return self._query(dql, all_series, dict_output, raw, token, kwargs)


class DataWayHelper(_LineProtocolHelper):
    """`DFF.CONN(id)` of a dataway connector: the workspace token is the connector's, kept by the server."""

    def query(self, dql, all_series=False, dict_output=False, raw=False, **kwargs):
        return self._query(dql, all_series, dict_output, raw, None, kwargs)
