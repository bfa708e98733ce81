"""``shouldi serve``: the check API and a package-firewall index, as one ASGI app.

- :mod:`.config`: what a server runs with, validated once (loopback or a token, ...);
- :mod:`.checks`: request bodies to the answers ``shouldi install`` gives (the whole tree,
  or each spec alone with ``"no_deps": true``) and back to the install JSON; the gate that
  bounds flow runs; :mod:`.memo`: answers given, kept in memory with their JSON;
- :mod:`.jobs`: checks in the background; :mod:`.state`: the SQLite file that keeps
  answers, judged files and jobs across restarts;
- :mod:`.firewall` and :mod:`.pages`: the simple index that hides what failed and serves
  only what passed, from the verified artifact cache;
- :mod:`.middleware`: access log, token, body limit; :mod:`.app`: routes and errors
  (:mod:`.errors`); :mod:`.run`: uvicorn.

FastAPI and uvicorn are the ``serve`` extra (``pip install '.[serve]'`` from shouldi's source:
the name on PyPI is another project); nothing else in shouldi imports this package. Using it::

    shouldi serve --port 8080                       # upstream: --index-url (PyPI by default)
    pip install --index-url http://127.0.0.1:8080/simple/ requests
    curl -d '{"specs": ["requests==2.32.3"]}' http://127.0.0.1:8080/v1/check  # and its tree
    curl -d '{"specs": ["requests==2.32.3"], "no_deps": true}' http://127.0.0.1:8080/v1/check
    curl -d '{"specs": ["django"]}' http://127.0.0.1:8080/v1/jobs        # 202 {"id": ...}
    curl http://127.0.0.1:8080/v1/jobs/ID
    curl http://127.0.0.1:8080/v1/packages/requests/2.32.3
    shouldi serve --host 0.0.0.0 --token-file token.txt --workers 2     # for a team
    pip install --index-url http://__token__:TOKEN@host:8080/simple/ requests

Known limits: uvicorn has no timeout for reading a request (a client that trickles bytes
keeps its connection; ``limit_concurrency``, 2048 per worker, bounds how many can; put a
reverse proxy in front on an untrusted network); a judgement is shared by the requests of one worker process,
not across workers; pip shows a refusal as "403 Client Error: Forbidden" (HTTP/1.1 servers
here cannot set the reason phrase), the reason is in the body, the server log, the project
page (``_shouldi`` / the HTML paragraph) and ``GET /v1/packages/{name}/{version}``.
"""

from __future__ import annotations

__all__ = ["ServiceConfig", "create_app"]

from shouldi.service.app import create_app
from shouldi.service.config import ServiceConfig
