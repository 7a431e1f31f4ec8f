"""What the interpreter snapshot holds ready (see runtime/snapshot/), and what a restore redoes.

The snapshot is taken after this module is imported: the gitfunc shim and the stdlib modules
scripts import most are then already loaded in every worker started from it. Nothing here may
depend on a call, a revision or a JS object: the snapshot is shared by every worker.
"""

# Imported for their side effect: being loaded when the snapshot is taken.
import base64  # noqa: F401
import collections  # noqa: F401
import copy  # noqa: F401
import csv  # noqa: F401
import dataclasses  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import enum  # noqa: F401
import functools  # noqa: F401
import gc
import hashlib  # noqa: F401
import hmac  # noqa: F401
import io  # noqa: F401
import itertools  # noqa: F401
import json  # noqa: F401
import math  # noqa: F401
import random
import re  # noqa: F401
import secrets  # noqa: F401
import statistics  # noqa: F401
import string  # noqa: F401
import textwrap  # noqa: F401
import time  # noqa: F401
import typing  # noqa: F401
import urllib.parse  # noqa: F401
import urllib.request  # noqa: F401  (with http.client and email: ~0.25 s to import in a worker)
import uuid  # noqa: F401

import gitfunc_bridge  # noqa: F401
import gitfunc_runtime  # noqa: F401


def after_restore():
    """Every worker restored from one snapshot starts with the same `random` state: reseed it
    from os.urandom. (`secrets`, `uuid.uuid4` and SystemRandom read os.urandom on every call.)"""
    random.seed()


def before_snapshot():
    """What is loaded now lives as long as the interpreter: frozen, the garbage collector no
    longer walks it, in each restored worker's start (lock-down collects once) and after."""
    gc.collect()
    gc.freeze()
