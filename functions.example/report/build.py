"""Script report__build: a slow report, the API of the maxConcurrency example."""

import time


@DFF.API('Build a slow report', timeout=30)
def build(seconds='1'):
    time.sleep(float(seconds))
    return {'built': True, 'seconds': float(seconds)}
