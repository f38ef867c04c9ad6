"""``aggregator demo``: the whole pipeline, offline, over bundled sample feeds.

The sample feeds (``aggregator/cli/samples/feeds/``, invented for the demo) are served
from 127.0.0.1 on a free port; ``aggregator/cli/samples/demo.yaml`` is a complete config
whose feed URLs start with :data:`PLACEHOLDER`, replaced by that server's address.
Nothing leaves the machine: env proxies are bypassed by handing the pipeline its
own transport.
"""

from __future__ import annotations

import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator


from .. import config as config_mod
from ..errors import ConfigError
from ..config import atomic_write
from ..fetch import direct_transport
from ..records import Config
from ..reports import RunReport

DEMO_DIR = Path(__file__).with_name("samples")
TEMPLATE = DEMO_DIR / "demo.yaml"
FEEDS_DIR = DEMO_DIR / "feeds"
PLACEHOLDER = "http://demo.invalid/"
MARKER = "# aggregator demo"  # first line of a config this module wrote: safe to overwrite


@dataclass(frozen=True)
class DemoResult:
    directory: Path
    config_path: Path
    output_dir: Path
    report: RunReport
    port: int = 8000  # where base_url says the output will be served

    def describe(self) -> str:
        files = sorted(p.name for p in self.output_dir.iterdir() if p.is_file()) if self.output_dir.is_dir() else []
        return "\n".join([
            self.report.summary(),
            f"config: {self.config_path}",
            f"output: {self.output_dir} ({len(files)} files: {', '.join(files[:8])}{' …' if len(files) > 8 else ''})",
            f"serve it: aggregator --config {self.config_path} serve --port {self.port}   "
            f"then open http://127.0.0.1:{self.port}/",
            f"explore:  aggregator --config {self.config_path} stats",
            "(the sample feed server has stopped; run the demo again with the same --dir to refresh)",
        ])


@contextmanager
def sample_server() -> Iterator[str]:
    """Serve the bundled sample feeds on 127.0.0.1 (a free port); yields the base URL."""
    from ..publish import make_server

    httpd = make_server(DEMO_DIR, "127.0.0.1", 0)  # URLs are /feeds/NAME
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = httpd.server_address[:2]
        yield f"http://{host}:{port}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def demo_config_text(feeds_base: str, *, port: int = 8000) -> str:
    """The demo template with feed URLs under *feeds_base* and base_url on *port* (comments kept)."""
    base = feeds_base.rstrip("/") + "/"

    def local(url: str) -> str:
        return base + url[len(PLACEHOLDER):].lstrip("/") if url.startswith(PLACEHOLDER) else url

    return config_mod.rewrite_text(TEMPLATE.read_text(encoding="utf-8"),
                                   base_url=f"http://127.0.0.1:{port}/", feed_url=local)


def write_config(directory: Path, feeds_base: str, *, port: int = 8000) -> Path:
    """Write DIR/feeds.yaml for the demo. Refuses to overwrite a config the demo did not write."""
    path = Path(directory) / "feeds.yaml"
    if path.exists():
        with path.open(encoding="utf-8", errors="replace") as f:
            if not f.readline().startswith(MARKER):
                raise ConfigError("exists and is not a demo config; not overwriting it (choose another --dir)",
                                  path)
    text = demo_config_text(feeds_base, port=port)
    config_mod.loads(text, path)  # the template must stay a valid config
    atomic_write(path, text)
    return path


def run_demo(directory: Path | str | None = None, *, port: int = 8000, now: datetime | None = None) -> DemoResult:
    """Serve the samples, write DIR/feeds.yaml, run the pipeline once (every feed forced)."""
    from .. import pipeline

    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="aggregator-demo-"))
    directory = Path(directory).resolve()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create the demo folder: {e.strerror or e}", directory) from None
    with sample_server() as base:
        path = write_config(directory, base, port=port)
        conf: Config = config_mod.load(path)
        # The demo's store stays in its folder, whatever $AGGREGATOR_STORE names: never a real store.
        conf = config_mod.replace_settings(conf, store=directory / "data" / "aggregator.json")
        # A transport of our own: the client then ignores HTTP(S)_PROXY, so 127.0.0.1 is reached directly.
        report = pipeline.run(conf, transport=direct_transport(), now=now, force=True)
    return DemoResult(directory, path, conf.settings.output_dir, report, port)


def serve_output(result: DemoResult, *, port: int = 8000) -> None:
    """Serve the demo's output on 127.0.0.1:*port* until Ctrl-C."""
    from ..publish import serve

    print(f"serving {result.output_dir} on http://127.0.0.1:{port}/ (Ctrl-C to stop)", flush=True)
    serve(result.output_dir, host="127.0.0.1", port=port)
