"""DataFlux Func's `DFF.*` members that gitfunc does not offer.

A script ported from DFF that reaches one gets a NotImplementedError naming it (not a bare
AttributeError, nor DFF's silent None), and `gitfunc check` warns at each place a script
names one. The list is DFF's own (its worker's `DFF` object), less what gitfunc has.
"""

import ast
import builtins
import re

UNSUPPORTED = frozenset(
    (
        "LOG", "VAR", "EVAL", "EXEC",
        "CONFIG", "SQL", "RSRC", "SIGN",
        "FUNC", "BLUEPRINT", "THREAD",
        "TASK", "SYS_DB", "SYS_CACHE_DB",
        "SYNC_API", "ASYNC_API", "CRON_JOB", "AUTH_LINK", "BATCH", "CRONTAB_CONFIG",
        "GUANCE_OPENAPI", "DATAKIT", "DATAWAY", "TOOLKIT", "EXTRA_GUANCE_DATA",
    )
)  # fmt: skip

# What to use instead, where gitfunc has an answer.
_INSTEAD = {
    "LOG": "use print()",
    "FUNC": "import the script and call the function (from demo__other import f)",
    "THREAD": "threads are not available in Pyodide",
    "DATAKIT": "declare a datakit connector and use DFF.CONN",
    "DATAWAY": "declare a dataway connector and use DFF.CONN",
    "SYNC_API": "APIs are declared in gitfunc.yaml",
    "ASYNC_API": "APIs are declared in gitfunc.yaml",
    "CRON_JOB": "cron jobs are declared in gitfunc.yaml",
}


def is_unsupported(name):
    """DFF offers each member in lower case too (`DFF.sql`)."""
    return name.upper() in UNSUPPORTED


class NotSupported(NotImplementedError, AttributeError):
    """A NotImplementedError that hasattr() and getattr(DFF, name, default) also read as a missing member."""


# Shown as the NotImplementedError it is, in tracebacks and task records.
NotSupported.__name__ = NotSupported.__qualname__ = "NotImplementedError"
NotSupported.__module__ = builtins.__name__


def message(name):
    text = "DFF.%s is not supported by gitfunc" % name
    instead = _INSTEAD.get(name.upper())
    return "%s: %s" % (text, instead) if instead else text


def not_supported(name):
    return NotSupported(message(name))


# A cheap look before parsing: most scripts name no unsupported member.
_MENTION = re.compile(r"\bDFF\s*\.\s*([A-Za-z_]+)")


def unsupported_uses(path, source):
    """Where a script names an unsupported `DFF.X`: [{file, line, col, message}]."""
    if not any(is_unsupported(name) for name in _MENTION.findall(source)):
        return []
    try:
        tree = ast.parse(source, path)
    except SyntaxError:  # reported as the script's import error
        return []
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "DFF" and is_unsupported(node.attr):
            uses.append(
                {
                    "file": path,
                    "line": node.lineno,
                    "col": node.col_offset + 1,
                    "message": "%s (using it raises NotImplementedError)" % message(node.attr),
                }
            )
    return sorted(uses, key=lambda use: (use["line"], use["col"]))
