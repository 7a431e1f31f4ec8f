"""Runs a revision's scripts inside Pyodide: one isolated module namespace per revision.

The worker (worker.cts) calls `load_revision`, `inspect_revision`, `call` and `drop_revisions`.
Scripts never touch `sys.modules`: every script module gets its own `__builtins__` whose
`__import__` resolves `demo__other` / `__other` inside the same revision, so two commits'
`demo__x` never collide and dropping a revision frees its modules.
"""

import builtins
import collections
import importlib
import inspect
import json
import linecache
import reprlib
import sys
import time
import traceback
import types

import gitfunc_connector_bridge
import gitfunc_connectors
import gitfunc_func_auth
import gitfunc_network
import gitfunc_sleep
import gitfunc_socket
from gitfunc_context import CTX
from gitfunc_dff import DFFNamespace, DFFConfigError, RESULT_ENCODERS
from gitfunc_dff_members import unsupported_uses
from gitfunc_http_request import script_request
from gitfunc_response import FuncResponse

# Scripts reach the network through the server (CONTRACT section 10).
gitfunc_network.install()
# time.sleep waits without spinning a core, and ends at the call's deadline.
gitfunc_sleep.install()

_builtin_import = builtins.__import__
_builtin_print = builtins.print

# Installed package folders are shared and read-only: no __pycache__ is written into them.
sys.dont_write_bytecode = True

# Caps on captured print output: a runaway loop of prints must not fill the worker's heap.
LOG_LINE_MAX_CHARS = 2000
LOG_MAX_LINES = 1000


class CallLog:
    """print() output of the current call: lines with their elapsed ms, head and tail kept."""

    def __init__(self):
        self.started = time.monotonic()
        self.head = []
        self.tail = collections.deque(maxlen=LOG_MAX_LINES // 2)
        self.dropped = 0

    def write(self, text):
        elapsed = int((time.monotonic() - self.started) * 1000)
        for line in text.split("\n"):
            if len(line) > LOG_LINE_MAX_CHARS:
                line = line[:LOG_LINE_MAX_CHARS] + "...(cut)"
            entry = [elapsed, line]
            if len(self.head) < LOG_MAX_LINES // 2:
                self.head.append(entry)
            else:
                if len(self.tail) == self.tail.maxlen:
                    self.dropped += 1
                self.tail.append(entry)

    def lines(self):
        if not self.head:
            return None
        out = list(self.head)
        if self.dropped:
            out.append([self.tail[0][0], "...(%d lines cut)" % self.dropped])
        out.extend(self.tail)
        return json.dumps(out, ensure_ascii=False)


_current_log = None


def _captured_print(*args, sep=" ", end="\n", file=None, flush=False):
    if file is not None and file is not sys.stdout:
        return _builtin_print(*args, sep=sep, end=end, file=file, flush=flush)
    if _current_log is None:
        return None
    text = (sep if sep is not None else " ").join(str(a) for a in args)
    if end and end != "\n":
        text += end
    _current_log.write(text)
    return None


class PackageSets:
    """Each revision imports the packages of its own installed folder, and only those.

    Scripts import packages through the normal import system (sys.path, sys.modules), so
    only one revision's folder is importable at a time: entering a call or import check of
    a revision whose folder is not the active one moves the active folder's modules out of
    sys.modules (kept for when it is active again), takes the folder off sys.path, and puts
    the new folder and its kept modules in. Revisions pinning the same wheels share a folder
    (its name is a hash of them), and so share its modules.
    """

    def __init__(self):
        self.active = None
        self.kept = {}  # folder -> {module name: module} while another folder is active

    def enter(self, folder):
        if folder == self.active:
            return
        if self.active is not None:
            self.kept[self.active] = self._take_modules(self.active)
            if self.active in sys.path:
                sys.path.remove(self.active)
        if folder is not None:
            sys.path.append(folder)  # after the standard library, as site-packages is
            sys.modules.update(self.kept.pop(folder, {}))
        importlib.invalidate_caches()
        self.active = folder

    def forget_all_but(self, folders):
        """Drops the modules of folders no loaded revision uses (the worker unmounts them)."""
        for folder in [f for f in self.kept if f not in folders]:
            del self.kept[folder]
        if self.active is not None and self.active not in folders:
            dropped = self.active
            self.enter(None)
            del self.kept[dropped]

    @staticmethod
    def _take_modules(folder):
        """Removes from sys.modules the modules loaded from `folder`, and their submodules."""
        prefix = folder + "/"
        taken = {}
        for name, module in list(sys.modules.items()):
            if _module_location(module).startswith(prefix):
                taken[name] = sys.modules.pop(name)
        # Submodules made without a file (six.moves and friends) go with their package.
        tops = {name.split(".", 1)[0] for name in taken}
        for name in list(sys.modules):
            if name.split(".", 1)[0] in tops:
                taken[name] = sys.modules.pop(name)
        return taken


def _module_location(module):
    """Where a module was loaded from, read from its __dict__ only (a module's __getattr__ may import)."""
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict):
        return ""
    location = namespace.get("__file__")
    if isinstance(location, str):
        return location
    spec = namespace.get("__spec__")
    try:
        locations = list(getattr(spec, "submodule_search_locations", None) or [])
    except Exception:  # a broken namespace path: not from a package folder we can tell
        return ""
    return locations[0] if locations and isinstance(locations[0], str) else ""


_package_sets = PackageSets()


# The parameter kinds a caller's kwargs can fill.
_BY_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _signature_parameters(func):
    """The parameters of `func`'s signature; None when it has no readable signature."""
    try:
        return list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None


def _keyword_parameters(parameters):
    """Names a function can take by keyword; None when it takes **kwargs."""
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters if p.kind in _BY_KEYWORD]


# A default longer than this (as JSON) is shown by the start of its repr: the catalog stays small.
_DEFAULT_TEXT_MAX = 1000
# reprlib shortens long containers and strings (`[0, 1, 2, 3, 4, 5, ...]`).
_default_repr = reprlib.Repr()
_default_repr.maxstring = _default_repr.maxother = 200


def _annotation_text(annotation):
    """An annotation as a person writes it (`int`, `list[str]`, `int | None`); quoted ones as written."""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__qualname__
    return inspect.formatannotation(annotation)


def _parameters(parameters):
    """What the API docs show of each parameter a caller can pass by keyword: name, default, annotation."""
    described = []
    for p in parameters:
        if p.kind not in _BY_KEYWORD:
            continue
        entry = {"name": p.name, "required": p.default is inspect.Parameter.empty}
        if p.default is not inspect.Parameter.empty:
            try:
                # Checked as JSON the server can read back (no NaN); anything else, or a large
                # value, is shown as the start of its repr.
                if len(json.dumps(p.default, allow_nan=False)) > _DEFAULT_TEXT_MAX:
                    raise ValueError("too large for the docs")
                entry["default"] = p.default
            except (TypeError, ValueError, RecursionError):
                entry["defaultText"] = _default_repr.repr(p.default)
        if p.annotation is not inspect.Parameter.empty:
            entry["annotation"] = _annotation_text(p.annotation)
        described.append(entry)
    return described


class Revision:
    """One commit's scripts, their modules and their decorated functions."""

    def __init__(self, rev_id, sources, env, packages_dir=None, connectors=None):
        self.id = rev_id
        # connector id -> type (DFF.CONN)
        self.connectors = connectors or {}
        # Where its installed packages are mounted; None without packages.
        self.packages_dir = packages_dir
        # script id -> (relative path, source text)
        self.sources = sources
        self.paths = {path for path, _ in sources.values()}
        self.modules = {}
        self.functions = {}
        self.catalog = {}
        self.dff = DFFNamespace(env, self._register, self.connectors)
        for path, source in sources.values():
            # linecache lets tracebacks show the user's source lines.
            linecache.cache[path] = (len(source), None, source.splitlines(True), path)

    def _register(self, func, options):
        func_id = "%s.%s" % (func.__module__, func.__name__)
        options["id"] = func_id
        options["line"] = func.__code__.co_firstlineno
        options["file"] = func.__code__.co_filename
        # Only functions whose script mentions it get the request: building and parsing it
        # per call is a large share of a small call's cost.
        options["usesHttpRequest"] = "_DFF_HTTP_REQUEST" in self.sources[func.__module__][1]
        parameters = _signature_parameters(func)
        if parameters is not None:
            keyword_names = _keyword_parameters(parameters)
            if keyword_names is not None:
                options["keywordParameters"] = keyword_names
            options["parameters"] = _parameters(parameters)
        self.functions[func_id] = func
        self.catalog[func_id] = options

    def _builtins_for(self, script_set):
        table = dict(builtins.__dict__)
        revision = self

        def _import(name, globals=None, locals=None, fromlist=(), level=0):
            if level == 0:
                script_id = None
                if name in revision.sources:
                    script_id = name
                elif name.startswith("__") and (script_set + name) in revision.sources:
                    script_id = script_set + name
                if script_id is not None:
                    return revision.import_script(script_id)
            return _builtin_import(name, globals, locals, fromlist, level)

        table["__import__"] = _import
        table["print"] = _captured_print
        return table

    def import_script(self, script_id):
        module = self.modules.get(script_id)
        if module is not None:
            return module
        path, source = self.sources[script_id]
        module = types.ModuleType(script_id)
        module.__file__ = path
        module.__dict__["__builtins__"] = self._builtins_for(script_id.split("__", 1)[0])
        module.__dict__["DFF"] = self.dff
        # Registered before running, as Python does, so import cycles see a partial module.
        self.modules[script_id] = module
        try:
            exec(compile(source, path, "exec"), module.__dict__)
        except BaseException:
            del self.modules[script_id]
            raise
        return module

    def undecorated(self):
        names = []
        for script_id, module in self.modules.items():
            for name, value in module.__dict__.items():
                if isinstance(value, types.FunctionType) and value.__module__ == script_id:
                    func_id = "%s.%s" % (script_id, name)
                    if func_id not in self.catalog:
                        names.append(func_id)
        return names


_revisions = {}


def load_revision(rev_id, sources_json, env_json, packages_dir=None, connectors_json=None):
    """Registers a revision's sources (its packages folder, its connectors' types); scripts are compiled lazily on first use."""
    if rev_id in _revisions:
        return
    sources = {sid: (entry[0], entry[1]) for sid, entry in json.loads(sources_json).items()}
    connectors = json.loads(connectors_json) if connectors_json else {}
    _revisions[rev_id] = Revision(rev_id, sources, json.loads(env_json), packages_dir, connectors)


def drop_revisions(keep_ids_json):
    """Forgets every revision not in the list: no call uses them any more."""
    keep = set(json.loads(keep_ids_json))
    for rev_id in list(_revisions):
        if rev_id not in keep:
            revision = _revisions.pop(rev_id)
            for path in revision.paths:
                linecache.cache.pop(path, None)
    _package_sets.forget_all_but({r.packages_dir for r in _revisions.values()})


def _position_of(error, revision):
    """(path, line, col) of the innermost user-script frame of an import error."""
    if isinstance(error, SyntaxError) and error.filename in revision.paths:
        return error.filename, error.lineno or 1, error.offset or 1
    if isinstance(error, DFFConfigError) and error.position:
        return error.position
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename in revision.paths]
    if frames:
        frame = frames[-1]
        return frame.filename, frame.lineno or 1, (frame.colno or 0) + 1
    return None, 1, 1


def inspect_revision(rev_id):
    """Imports every script; returns the function catalog, each import problem and each use of a DFF member gitfunc lacks (JSON)."""
    revision = _revisions[rev_id]
    _package_sets.enter(revision.packages_dir)
    problems = []
    for path, source in sorted(revision.sources.values()):
        problems.extend(gitfunc_connectors.undeclared_references(path, source, revision.connectors))
    interrupted = False
    global _current_log
    _current_log = CallLog()
    gitfunc_connector_bridge.begin_call(rev_id)
    try:
        for script_id in sorted(revision.sources):
            try:
                revision.import_script(script_id)
            except KeyboardInterrupt as error:
                # The import time limit passed: point at the line it was stopped at.
                path, line, col = _position_of(error, revision)
                problems.append({
                    "script": script_id,
                    "file": path or revision.sources[script_id][0],
                    "line": line,
                    "col": col,
                    "message": "import did not finish within the time allowed (limits.importSeconds); stopped here",
                })
                interrupted = True
                break
            except BaseException as error:  # a script may raise anything, SystemExit included
                path, line, col = _position_of(error, revision)
                if path is None:
                    path = revision.sources[script_id][0]
                message = "%s: %s" % (type(error).__name__, _error_text(error))
                problems.append({"script": script_id, "file": path, "line": line, "col": col, "message": message})
    finally:
        _current_log = None
        gitfunc_socket.end_call()
        gitfunc_connector_bridge.end_call()
    return json.dumps(
        {
            "catalog": list(revision.catalog.values()),
            "undecorated": revision.undecorated(),
            "scriptIds": sorted(revision.sources),
            "problems": problems,
            "warnings": [use for path, source in sorted(revision.sources.values()) for use in unsupported_uses(path, source)],
            "interrupted": interrupted,
        }
    )


def _error_text(error):
    if isinstance(error, SyntaxError):
        return error.msg
    return str(error)


def _user_traceback(error, revision):
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename in revision.paths]
    text = "Traceback (most recent call last):\n"
    text += "".join(traceback.format_list(frames))
    text += "".join(traceback.format_exception_only(type(error), error))
    return text


_KIND_CODES = {"json": "j", "text": "t", "error": "e", "timeout": "x", "response": "r"}
_last_log = None


def take_log():
    """The print output of the last call, as JSON [[elapsedMs, line], ...]."""
    return _last_log


def call(rev_id, func_id, kwargs_json, task_id, origin, origin_id, attempt, http_request_json, return_type, cron_expr=None, deadline_ms=None):
    """Runs one function; returns kind letter + log flag + body, one string (no proxy to free).

    `deadline_ms`: epoch ms when the call's time is up (its connectors' queries end by then).

    kind is j(son) | t(ext) | e(rror) | x (timeout: interrupted) | r(esponse: DFF.RESP and
    friends, the body is their JSON spec); for an error the body is a JSON object with the
    exception and a traceback of user-script frames only.
    """
    global _current_log, _last_log
    kind, body = "timeout", ""
    revision = _revisions[rev_id]
    _package_sets.enter(revision.packages_dir)
    log = _current_log = CallLog()
    gitfunc_connector_bridge.begin_call(rev_id, deadline_ms)
    try:
        func = revision.functions.get(func_id)
        if func is None:
            script_id = func_id.split(".", 1)[0]
            if script_id in revision.sources:
                revision.import_script(script_id)
            func = revision.functions.get(func_id)
        if func is None:
            raise LookupError("function %s is not loaded in this revision" % func_id)
        module_globals = func.__globals__
        module_globals["_DFF_TASK_ID"] = task_id
        module_globals["_DFF_FUNC_ID"] = func_id
        module_globals["_DFF_ORIGIN"] = origin
        module_globals["_DFF_ORIGIN_ID"] = origin_id
        module_globals["_DFF_TASK_ATTEMPT"] = attempt
        module_globals["_DFF_CRON_EXPR"] = cron_expr
        module_globals["_DFF_HTTP_REQUEST"] = script_request(http_request_json)
        CTX.reset()
        kwargs = json.loads(kwargs_json)
        if origin == gitfunc_func_auth.ORIGIN:
            kwargs = gitfunc_func_auth.kwargs_for(func, module_globals["_DFF_HTTP_REQUEST"])
        result = func(**kwargs)
        if origin == gitfunc_func_auth.ORIGIN:
            kind, body = gitfunc_func_auth.answer(result)
        elif type(result) is FuncResponse:
            kind, body = "response", result.spec(RESULT_ENCODERS[return_type])
        else:
            kind, body = RESULT_ENCODERS[return_type](result)
    except KeyboardInterrupt:
        # The interrupt buffer was set: the caller already got its timeout answer.
        kind, body = "timeout", ""
    except BaseException as error:  # SystemExit from a script is an error of that call too
        detail = {
            "exception": "%s: %s" % (type(error).__name__, _error_text(error)),
            "traceback": _user_traceback(error, revision),
        }
        kind, body = "error", json.dumps(detail, ensure_ascii=False)
    finally:
        _current_log = None
        gitfunc_socket.end_call()
        gitfunc_connector_bridge.end_call()
    _last_log = log.lines()
    return _KIND_CODES[kind] + ("0" if _last_log is None else "1") + body
