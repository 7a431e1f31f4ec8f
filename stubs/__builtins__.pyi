# pyright adds what this file declares to the builtins of a project whose root holds it: copy it
# (or link it) into your functions repository's root and set pyright's stubPath to this folder.
from dff import DFF as DFF
from dff import _DFF_CRON_EXPR as _DFF_CRON_EXPR
from dff import _DFF_FUNC_ID as _DFF_FUNC_ID
from dff import _DFF_HTTP_REQUEST as _DFF_HTTP_REQUEST
from dff import _DFF_ORIGIN as _DFF_ORIGIN
from dff import _DFF_ORIGIN_ID as _DFF_ORIGIN_ID
from dff import _DFF_TASK_ATTEMPT as _DFF_TASK_ATTEMPT
from dff import _DFF_TASK_ID as _DFF_TASK_ID
