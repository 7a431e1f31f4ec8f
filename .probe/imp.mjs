import { loadPyodide } from 'pyodide';
const py = await loadPyodide();
py.runPython('import json, re, base64, datetime, socket, ssl, selectors, select, weakref, hashlib');
const t0 = performance.now();
py.runPython('import urllib.request');
console.log('urllib.request import ms', (performance.now() - t0).toFixed(1));
