"""Script report__stats: text statistics used by the report scripts."""

import collections
import re


def count_words(text):
    return collections.Counter(re.findall(r"[\w']+", text.lower()))


@DFF.API('Word statistics')
def word_stats(text='', top=3):
    counts = count_words(text)
    print('counted %d distinct words' % len(counts))
    return {'words': sum(counts.values()), 'top': counts.most_common(int(top))}
