"""Imports a package from this repository's own wheels/ folder (pinned in gitfunc.yaml)."""

import sample_slugify


@DFF.API("Slug of a title", category="text")
def slug(title="Hello, World!"):
    """GET /api/v1/al/slug/simplified?title=Hello%20World  ->  {"slug": "hello-world", ...}"""
    return {"slug": sample_slugify.slugify(title), "package": "gitfunc-sample-slugify " + sample_slugify.__version__}
