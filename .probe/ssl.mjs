import { loadPyodide } from 'pyodide';
const py = await loadPyodide();
console.log(py.runPython(`
import ssl, _ssl
r=[]
r.append(_ssl.__file__ if hasattr(_ssl,'__file__') else str(_ssl))
r.append(ssl.OPENSSL_VERSION if hasattr(ssl,'OPENSSL_VERSION') else 'no ver')
try:
    ctx = ssl.create_default_context()
    r.append(('ctx', ctx))
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname='example.com')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        r.append(('hello bytes', len(out.read())))
except Exception as e:
    import traceback; r.append(traceback.format_exc())
str(r)
`));
