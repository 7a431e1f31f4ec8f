"""Script report__summary: builds a short summary, reusing report__stats."""

from __stats import count_words   # same-set import, DFF style
import demo__basic                 # cross-set import


@DFF.API('Summarize a text', timeout=30)
def summarize(text=''):
    counts = count_words(text)
    greeting = demo__basic.hello_world(message='summary')
    return {
        'greeting': greeting['message'],
        'distinctWords': len(counts),
        'longest': max(counts, key=len) if counts else None,
    }
