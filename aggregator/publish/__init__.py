"""Stage 7, publish: topics × items → RSS 2.0, Atom 1.0 and JSON Feed files, the index page,
OPML, the health feed and metrics, in ``output/``.

Owns: feedgen, lxml, what each topic feed shows (``model``: pure selection and views;
``stream``: one topic's view at a time), the renderers (``feeds``, ``jsonfeed``, ``site``, ``healthfeed``), the manifest of the
files it wrote and when they go stale (``manifest``: it removes only its own), the health verdict
and metrics (``health``), which feeds to announce to a WebSub hub (``websub``), and
the small static server for the output folder (``serve``). Every file is written
atomically and left alone when its bytes did not change.
Must not: fetch feeds or write the store.

Start reading at ``feeds.py`` (``publish``), then ``model.py``.
"""

from .feeds import outputs_complete, publish, publish_health, write_atomic
from .health import health_verdict, is_deferred, is_failing, item_counts, metrics_text, standing
from .manifest import expiries
from .model import select
from .server import make_server, serve
from .websub import changed_feed_urls

__all__ = [
    "changed_feed_urls", "expiries", "health_verdict", "is_deferred", "is_failing", "item_counts", "make_server", "metrics_text",
    "outputs_complete", "publish", "publish_health", "select", "serve", "standing", "write_atomic",
]
