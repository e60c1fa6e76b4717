"""X-Ray tracing of the libraries the functions call, patched when each is first imported.

Powertools' Tracer, when created with auto_patch on, patches every library the X-Ray SDK supports
and imports each to do so: the AWS SDK alone was a third of the API's cold start, although only a
few requests use it. So every Tracer in the package is created with auto_patch=False, and each
handler calls `trace_libraries_when_imported` once: a library is patched as soon as something
imports it (at once when it already is), and one a function never uses is never loaded for tracing.
"""

from functools import partial
from types import ModuleType

import wrapt
from aws_lambda_powertools import Tracer

#: The X-Ray SDK's name of each traced library -> the module whose import patches it: the AWS SDK
#: (Secrets Manager, S3, Lambda), httpx (Sierra) and SQLAlchemy (every statement). The AWS SDK is
#: patched when boto3 is imported, since every client here comes from boto3: Powertools imports the
#: bare `botocore` package at start-up, and a hook on `botocore.client` runs before that submodule is
#: bound to its package, which the patch needs. psycopg is not patched on its own: SQLAlchemy's spans
#: already cover its statements.
TRACED_LIBRARIES = {
    "botocore": "boto3",
    "httpx": "httpx",
    "sqlalchemy_core": "sqlalchemy",
}


def trace_libraries_when_imported(tracer: Tracer) -> None:
    """Patch each of TRACED_LIBRARIES into X-Ray when it is first imported (no-op when tracing is off)."""
    for library, module in TRACED_LIBRARIES.items():
        wrapt.register_post_import_hook(partial(_patch, tracer, library), module)


def _patch(tracer: Tracer, library: str, _module: ModuleType) -> None:
    tracer.patch([library])
