"""``shouldi serve``: the check API and a package-firewall index, over HTTP.

The command only parses options into a :class:`~shouldi.service.config.ServiceConfig`
(refusing unsafe combinations, exit 2) and runs it (:mod:`shouldi.service.run`); what is
served is described in :mod:`shouldi.service`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shouldi.cli.options import scan_options
from shouldi.errors import UsageError

if TYPE_CHECKING:
    from shouldi.settings import Settings

__all__ = ["serve"]


def _finite(_ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value):  # nan compares false with both bounds of FloatRange
        raise click.BadParameter(f"{value} is not a finite number", param=param)
    return value


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --token-file.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--upstream", metavar="URL",
              help="The simple index to proxy and judge packages from (default: --index-url, "
                   "i.e. $PIP_INDEX_URL or PyPI).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes.")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file holding the bearer token every request must carry.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file keeping answers and jobs (default: service.sqlite in the "
                   "data dir).")
@click.option("--max-checks", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Checks (flow runs) at once per worker; more wait, up to --max-waiting.")
@click.option("--max-waiting", type=click.IntRange(0, 100000), default=256, show_default=True,
              help="Checks that may wait for a slot before requests get 503.")
@click.option("--judge-wait", callback=_finite, type=click.FloatRange(0.01, 3600), default=10.0,
              show_default=True, metavar="SECONDS",
              help="How long a download waits for its file's first judgement before 503 "
                   "with Retry-After (the judgement goes on; pip waits and retries). Keep it "
                   "under pip's --timeout (15 s by default).")
@click.option("--check-wait", callback=_finite, type=click.FloatRange(0.01, 86400), default=300.0,
              show_default=True, metavar="SECONDS",
              help="How long POST /v1/check waits before answering 503 with a job id.")
@click.option("--max-body", type=click.IntRange(64, 1 << 30), default=1 << 20,
              show_default=True, metavar="BYTES", help="Largest request body accepted.")
@scan_options
def serve(host: str, port: int, upstream: str | None, workers: int, token_file: Path | None,
          state_path: Path | None, max_checks: int, max_waiting: int, judge_wait: float,
          check_wait: float, max_body: int, settings: Settings, quiet: bool) -> None:
    """Serve the check API (/v1/...) and a firewall index pip installs through (/simple/).

    \b
    pip install --index-url http://127.0.0.1:8080/simple/ requests
    curl -d '{"specs": ["requests"]}' http://127.0.0.1:8080/v1/check
    OpenAPI: http://127.0.0.1:8080/openapi.json
    """
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:  # the [serve] extra
        raise UsageError(f"shouldi serve needs FastAPI and uvicorn ({e.name} is not installed): "
                         "pip install fastapi 'uvicorn[standard]', or install shouldi from its "
                         "source with the extra: pip install '.[serve]'") from e
    from shouldi.service.config import ServiceConfig, read_token, token_file_warning
    from shouldi.service.run import run
    from shouldi.settings import check_index_url

    if upstream is not None:
        settings = settings.replace(index_url=check_index_url(upstream, "--upstream"))
    token = None
    if token_file is not None:
        token = read_token(token_file)
        warning = token_file_warning(token_file)
        if warning:
            click.echo(warning, err=True)
    config = ServiceConfig(settings, host=host, port=port, workers=workers, token=token,
                           state_path=state_path, max_body=max_body, max_checks=max_checks,
                           max_waiting=max_waiting, judge_wait=judge_wait,
                           check_wait=check_wait).check()
    from shouldi.service.state import check_state_file

    check_state_file(config.state_file)  # a foreign database: refused before the banner
    if not quiet:
        click.echo(f"shouldi serve: http://{host}:{port}/ (upstream {config.upstream}, state "
                   f"{config.state_file})", err=True)
    run(config)
