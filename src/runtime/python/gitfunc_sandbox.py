"""Cuts Python's ways to JavaScript once the runtime is up (see runtime/sandbox.cts).

After `lock_down()`, `import js` / `import pyodide_js` fail with ImportError, no Python object
holds the Pyodide API any more (its `mountNodeFS`, `FS`, `_module`, `_api`), and the helpers
that run JavaScript or shell commands raise PermissionError. Anything still reaching a JS
object only finds plain objects and functions, whose Function constructor cannot compile
(the worker runs without code generation from strings).
"""

import gc
import os
import sys

JS_MODULES = ("js", "pyodide_js")


class _RefuseJsModules:
    """A meta path finder: the JS modules fail to import, also through importlib."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".", 1)[0] in JS_MODULES:
            raise ModuleNotFoundError("module %r is not available to gitfunc scripts" % name, name=name)
        return None


def _refuse(what):
    def refused(*args, **kwargs):
        raise PermissionError("%s is not available to gitfunc scripts" % what)

    refused.__name__ = what.rsplit(".", 1)[-1]
    return refused


def _forget_js_modules():
    from _pyodide._importhook import JsFinder, JsLoader

    # The imported JS modules and their loaders hold the JS objects (the Pyodide API). Those
    # loaders are the only ones: JsFinder makes one per import. Found through the modules
    # rather than by walking the heap (~0.1 s in a worker just restored from the snapshot).
    for name in [name for name in sys.modules if name.split(".", 1)[0] in JS_MODULES]:
        module = sys.modules.pop(name)
        spec = getattr(module, "__spec__", None)
        for loader in (getattr(module, "__loader__", None), getattr(spec, "loader", None)):
            if type(loader) is JsLoader:
                loader.jsproxy = None
    for finder in sys.meta_path:
        if type(finder) is JsFinder:
            for name in JS_MODULES:
                finder.jsproxies.pop(name, None)
    # Imported at start-up from pyodide_js: a (still empty) JS object of loaded packages.
    import pyodide._package_loader as package_loader

    if hasattr(package_loader, "loadedPackages"):
        package_loader.loadedPackages = None


def lock_down():
    """Called once per interpreter, after the runtime's modules are imported."""
    sys.meta_path.insert(0, _RefuseJsModules())
    _forget_js_modules()
    import pyodide.code

    pyodide.code.run_js = _refuse("pyodide.code.run_js")
    # Emscripten runs os.system through Node's child_process: a shell on the host.
    os.system = _refuse("os.system")
    gc.collect()
