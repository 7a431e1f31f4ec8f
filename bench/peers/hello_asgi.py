"""bench/peers: the seed's hello_world as an ASGI route under Starlette, the stack a Python
team would pick instead of gitfunc. POST /hello with {"message": ...} -> {"message": ...}."""
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


def hello_world(message=None):
    return {'message': message}


async def hello(request):
    body = await request.json()
    return JSONResponse(hello_world(**body))


app = Starlette(routes=[Route('/hello', hello, methods=['POST'])])
