"""``shouldi serve``: the check API and a package-firewall index, as one ASGI app.

- :mod:`.config`: what a server runs with, validated once (loopback or a token, ...);
- :mod:`.checks`: request bodies to :func:`shouldi.api.answer_async` and back to the
  install JSON; the gate that bounds flow runs;
- :mod:`.jobs`: checks in the background; :mod:`.state`: the SQLite file that keeps
  answers, judged files and jobs across restarts;
- :mod:`.firewall` and :mod:`.pages`: the simple index that hides what failed and serves
  only what passed, from the verified artifact cache;
- :mod:`.middleware`: access log, token, body limit; :mod:`.app`: routes and errors
  (:mod:`.errors`); :mod:`.run`: uvicorn.

FastAPI and uvicorn are the ``serve`` extra (``pip install 'shouldi[serve]'``); nothing
else in shouldi imports this package.
"""

from __future__ import annotations

__all__ = ["ServiceConfig", "create_app"]

from shouldi.service.app import create_app
from shouldi.service.config import ServiceConfig
