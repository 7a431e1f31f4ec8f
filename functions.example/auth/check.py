"""Script auth__check: decides who may call the APIs with `auth: demo-key` (a `func` auth)."""


@DFF.API('Check the caller of a protected API')
def demo_key(req):
    # req is the request as DFF's _DFF_HTTP_REQUEST shows it; header names match in any case.
    # DEMO_API_KEY comes from the manifest's env; a real key would be ${NAME} from the server's environment.
    return req['headers'].get('X-Api-Key') == DFF.ENV('DEMO_API_KEY')
