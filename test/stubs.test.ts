// stubs/dff.pyi, the type stubs editors use for scripts, declares every public member of the
// runtime's DFF object, its helpers and the `_DFF_*` globals, read from the real .py sources
// with Python's ast, so a member added to the runtime without its stub fails here.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const STUB = path.join(root, 'stubs/dff.pyi');

// Prints, as JSON, what the stub (its text on stdin) lacks: "Class.member" or a global name.
const MISSING = String.raw`
import ast, json, sys

PY = sys.argv[1]
# (runtime module, runtime class, stub class)
CLASSES = [
    ("gitfunc_dff", "DFFNamespace", "DFFNamespace"),
    ("gitfunc_cache", "CacheHelper", "CacheHelper"),
    ("gitfunc_store", "StoreHelper", "StoreHelper"),
    ("gitfunc_context", "CallContext", "CallContext"),
    ("gitfunc_response", "FuncResponse", "FuncResponse"),
    ("gitfunc_conn_sql", "SQLHelper", "SQLHelper"),
    ("gitfunc_conn_sql", "SQLTransaction", "SQLTransaction"),
    ("gitfunc_conn_redis", "RedisHelper", "RedisHelper"),
    ("gitfunc_conn_datakit", "_LineProtocolHelper", "_LineProtocolHelper"),
    ("gitfunc_conn_datakit", "DataKitHelper", "DataKitHelper"),
    ("gitfunc_conn_datakit", "DataWayHelper", "DataWayHelper"),
]

def public_members(cls):
    names = set()
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        # attributes set in __init__ (self.x = ...)
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store) and isinstance(sub.value, ast.Name) and sub.value.id == "self":
                    names.add(sub.attr)
    return {name for name in names if not name.startswith("_")}

def classes(tree):
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

def stub_members(stub_classes, name):
    cls = stub_classes[name]
    names = public_members(cls)
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in stub_classes:
            names |= stub_members(stub_classes, base.id)
    return names

stub = ast.parse(sys.stdin.read())
stub_classes = classes(stub)
missing = []
for module, real_name, stub_name in CLASSES:
    real = classes(ast.parse(open("%s/%s.py" % (PY, module)).read()))[real_name]
    if stub_name not in stub_classes:
        missing.append(stub_name)
        continue
    missing += ["%s.%s" % (stub_name, name) for name in sorted(public_members(real) - stub_members(stub_classes, stub_name))]

# The globals the runtime sets before a call: module_globals["_DFF_X"] = ...
runtime = ast.parse(open("%s/gitfunc_runtime.py" % PY).read())
set_globals = {
    target.slice.value
    for node in ast.walk(runtime) if isinstance(node, ast.Assign)
    for target in node.targets
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and str(target.slice.value).startswith("_DFF_")
}
declared = {node.target.id for node in stub.body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
missing += sorted(set_globals - declared)
if "DFF" not in declared:
    missing.append("DFF")
print(json.dumps({"missing": missing, "globals": sorted(set_globals)}))
`;

async function check(stubText: string): Promise<{ missing: string[]; globals: string[] }> {
  const child = run('python3', ['-c', MISSING, path.join(root, 'src/runtime/python')]);
  child.child.stdin!.end(stubText);
  return JSON.parse((await child).stdout) as { missing: string[]; globals: string[] };
}

t.test('the stubs are valid Python', async (t) => {
  for (const file of ['stubs/dff.pyi', 'stubs/__builtins__.pyi']) {
    const { stdout } = await run('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1]); print("ok")', path.join(root, file)]);
    t.equal(stdout.trim(), 'ok', file);
  }
});

t.test('every public member of DFF, its helpers and the _DFF_* globals is declared', async (t) => {
  const result = await check(readFileSync(STUB, 'utf8'));
  t.same(result.missing, []);
  t.ok(result.globals.length >= 7, `the runtime's _DFF_* globals were found: ${result.globals.join(', ')}`);
});

t.test('a member missing from the stub is reported', async (t) => {
  const text = readFileSync(STUB, 'utf8');
  const withoutGetAll = text.replace(/^ {4}def get_all\(.*\n/m, '').replace(/^_DFF_CRON_EXPR: .*\n/m, '');
  t.not(withoutGetAll, text);
  const { missing } = await check(withoutGetAll);
  t.same(missing, ['CallContext.get_all', '_DFF_CRON_EXPR']);
});

t.test('__builtins__.pyi re-exports DFF and every _DFF_* global', async (t) => {
  const { globals } = await check(readFileSync(STUB, 'utf8'));
  const builtins = readFileSync(path.join(root, 'stubs/__builtins__.pyi'), 'utf8');
  for (const name of ['DFF', ...globals]) t.match(builtins, new RegExp(`^from dff import ${name} as ${name}$`, 'm'), name);
});
