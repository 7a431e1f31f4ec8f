"""Response control: `DFF.RESP`, `DFF.RESP_FILE`, `DFF.RESP_LARGE_DATA` and `DFF.REDIRECT` (CONTRACT section 3).

A function returns one of these instead of plain data to choose the HTTP status, content
type, headers and download name, or to answer with a file. The runtime sends it to the server
as a JSON spec; the server checks it again (headers, file location) before answering, since
nothing a script builds is trusted.
"""

import base64
import json
import re

# RFC 9110 token characters for a header name; a value must not smuggle a line break or NUL.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(r"[\r\n\x00]")


def _header_value(name, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError("response header %s must be a string or a number, got %s" % (name, type(value).__name__))
    text = str(value)
    if _BAD_VALUE.search(text):
        raise ValueError("response header %s contains CR, LF or NUL" % name)
    return text


def _headers(headers):
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise TypeError("headers must be a dict, got %s" % type(headers).__name__)
    checked = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValueError("response header name %r is not a valid HTTP token" % (name,))
        checked[name] = _header_value(name, value)
    return checked


def _status(status_code):
    if status_code is None:
        return 200
    if isinstance(status_code, bool) or not isinstance(status_code, int) or not 200 <= status_code <= 599:
        raise ValueError("status_code must be an integer from 200 to 599, got %r" % (status_code,))
    return status_code


def _download(download):
    if download is None or isinstance(download, (bool, str)):
        return download
    raise TypeError("download must be True, False or a file name, got %s" % type(download).__name__)


class FuncResponse:
    """A result with response control; built by RESP, RESP_FILE and REDIRECT."""

    def __init__(self, data=None, file_path=None, status_code=200, content_type=None, headers=None, download=None, auto_delete=False):
        self.data = data
        self.file_path = file_path
        self.status_code = _status(status_code)
        if content_type is not None:
            if not isinstance(content_type, str) or not content_type.strip():
                raise ValueError("content_type must be a non-empty string")
            _header_value("Content-Type", content_type)
        self.content_type = content_type
        self.headers = _headers(headers)
        self.download = _download(download)
        self.auto_delete = bool(auto_delete)

    def spec(self, encode):
        """The JSON spec the server answers from; `encode` is the call's result encoder."""
        spec = {
            "status": self.status_code,
            "headers": self.headers,
            "contentType": self.content_type,
            "download": self.download,
        }
        if self.file_path is not None:
            spec["file"] = self.file_path
            spec["autoDelete"] = self.auto_delete
        elif isinstance(self.data, (bytes, bytearray)):
            spec["bodyKind"] = "bytes"
            spec["body"] = base64.b64encode(bytes(self.data)).decode("ascii")
        else:
            spec["bodyKind"], spec["body"] = encode(self.data)
        return json.dumps(spec, ensure_ascii=False)


def RESP(data, status_code=200, content_type=None, headers=None, download=None, allow_304=False):
    """Answers with `data` and the given status, content type, headers and download name.

    `allow_304` is accepted for DataFlux Func scripts and has no effect.
    """
    return FuncResponse(data=data, status_code=status_code, content_type=content_type, headers=headers, download=download)


def RESP_FILE(file_path, status_code=200, headers=None, download=None, auto_delete=False, allow_304=False):
    """Answers with a file of the call's upload folder or of the revision's resources/ folder.

    A relative path is read from the revision's root (`resources/report.pdf`). The file is a
    download under its own name unless `download` is False (shown inline) or another name.
    """
    if not isinstance(file_path, str) or not file_path:
        raise ValueError("file_path must be a non-empty string")
    return FuncResponse(file_path=file_path, status_code=status_code, headers=headers, download=download, auto_delete=auto_delete)


def RESP_LARGE_DATA(data, content_type=None):
    """Answers with a large body, shown inline (DFF writes it to a file it serves; here it is sent as RESP sends data).

    `content_type` as DFF takes it: a file extension (`json`, `txt`, `csv`...) or a full type;
    by default `json` for a dict, list or tuple and `txt` for anything else.
    """
    if not content_type:
        content_type = "json" if isinstance(data, (dict, list, tuple)) else "txt"
    return FuncResponse(data=data, content_type=content_type, download=False)


def REDIRECT(url):
    """Answers 302 with `Location: url`."""
    if not isinstance(url, str) or not url:
        raise ValueError("url must be a non-empty string")
    return FuncResponse(data="Redirecting to %s" % url, status_code=302, headers={"Location": url})
