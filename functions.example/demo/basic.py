"""Script demo__basic: the first functions of the quick start."""


@DFF.API('Hello, world')
def hello_world(message=None):
    return {'message': message}


@DFF.API('Greet someone', category='demo', tags=['greeting'])
def greet(name='world', punctuation='.'):
    # DFF.ENV reads the manifest's env block.
    return '%s, %s%s' % (DFF.ENV('GREETING'), name, punctuation)


@DFF.API('Add two numbers', timeout=5)
def add(a, b):
    return float(a) + float(b)


def not_an_api():
    """Undecorated: the manifest cannot name it."""
    return 'hidden'
