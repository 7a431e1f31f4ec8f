import { loadPyodide } from 'pyodide';
const py = await loadPyodide();
console.log(py.runPython(`
import sys, socket, select
r = []
try:
    import ssl
    r.append(('ssl', ssl.__file__, [n for n in dir(ssl) if not n.startswith('__')][:40]))
except Exception as e:
    r.append(('ssl err', repr(e)))
r.append(('sockettype', socket.socket.__mro__, socket.socket.__init__))
r.append(('select', dir(select)))
r.append(('path', sys.path))
import http.client
r.append(('https', hasattr(http.client, 'HTTPSConnection')))
str(r)
`));
