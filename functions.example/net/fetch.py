"""Script net__fetch: reaches the network with Python's own urllib.request."""

import urllib.error
import urllib.parse
import urllib.request

READ_CHUNK_BYTES = 64 * 1024


def _failure(url, error):
    """No answer from the server: why, as the script saw it."""
    # urllib wraps a connect failure in URLError; its reason is the socket's own error.
    cause = error.reason if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException) else error
    return {'url': url, 'ok': False, 'error': type(cause).__name__, 'message': str(cause)}


@DFF.API('Fetch a URL: status, content type and size', category='net')
def fetch_url(url, timeout=10):
    """GET `url` (http or https) and report what came back.

    GET /api/v1/al/fetch-url/simplified?url=http://127.0.0.1:8088/healthz&timeout=5
      -> {"url": "http://127.0.0.1:8088/healthz", "ok": true, "status": 200,
          "contentType": "application/json; charset=utf-8", "bytes": 11}

    Whatever the remote side does is answered as a result, not raised, so a caller checking a
    URL always gets JSON it can read:
    - an HTTP error status (404, 500...) is a response: `ok` is false, `status`, `contentType`
      and `bytes` describe the error page;
    - no response at all is `ok: false` with `error` naming the exception and `message` its
      text: `PermissionError` (the server's egress rules refuse the address),
      `TimeoutError` (`timeout` seconds passed while connecting or waiting for data),
      `ConnectionRefusedError`, `gaierror` (unknown host), `SSLCertVerificationError`...
    A bad argument is the caller's mistake and raises (ValueError: 599.1).

    `url` follows redirects; the answer's `url` is where they ended. `timeout` bounds each
    connect and each read, not the whole call: the API's own timeout still stops a slow one.
    """
    if urllib.parse.urlsplit(url).scheme not in ('http', 'https'):
        raise ValueError('url must start with http:// or https://, got %r' % url)
    timeout = float(timeout)
    if timeout <= 0:
        raise ValueError('timeout must be above 0 seconds')
    request = urllib.request.Request(url, headers={'User-Agent': 'gitfunc-example/1.0'})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        response = error  # an HTTP error status is still a response, with headers and a body
    except (urllib.error.URLError, OSError) as error:
        return _failure(url, error)
    try:
        with response:
            size = 0
            while True:
                chunk = response.read(READ_CHUNK_BYTES)
                if not chunk:
                    break
                size += len(chunk)
    except OSError as error:  # the connection failed or timed out while the body was read
        return _failure(url, error)
    return {
        'url': response.geturl(),
        'ok': response.status < 400,
        'status': response.status,
        'contentType': response.headers.get('Content-Type'),
        'bytes': size,
    }
