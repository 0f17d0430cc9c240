"""Composing big jobs on every CPU: QR encoding in pure Python is most of a label's cost.

Chunks of labels are composed in worker processes while the calling thread
draws the pages already done, so a 1,000-tag job uses all cores. Small jobs
(a station printing one tag) stay in-process: starting workers costs more.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from refurb.printing.layout import Page, compose_many
from refurb.printing.stock import Stock
from refurb.printing.templates import LayoutSpec

__all__ = ("PARALLEL_FROM", "compose_all", "shutdown")

PARALLEL_FROM = 200  # labels
CHUNK = 50
_executor: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _workers() -> int:
    return min(4, os.cpu_count() or 1)


def _pool() -> ProcessPoolExecutor:
    global _executor
    with _lock:  # two big jobs at once must not start two pools
        if _executor is None:
            # spawn, not fork: the server process holds database connections and threads.
            _executor = ProcessPoolExecutor(_workers(), mp_context=multiprocessing.get_context("spawn"))
        return _executor


def shutdown() -> None:
    """Stop the workers (at application shutdown)."""
    global _executor
    with _lock:
        if _executor is not None:
            _executor.shutdown(wait=False, cancel_futures=True)
            _executor = None


atexit.register(shutdown)


def _compose_chunk(
    layout: LayoutSpec, stock: Stock, dpi: int, chunk: Sequence[Mapping[str, Any]], symbols: bool
) -> list[Page]:
    from refurb.printing.pdf import vector_ops

    pages = list(compose_many(layout, stock, dpi, chunk, symbols=symbols))
    for page in pages:
        page.vector = vector_ops(page)
    return pages


def compose_all(
    layout: LayoutSpec, stock: Stock, dpi: int, items: Sequence[Mapping[str, Any]], *, symbols: bool = True
) -> Iterator[Page]:
    """Every item's pages, in order; in worker processes when the job is big and symbols are needed."""
    if not symbols or len(items) < PARALLEL_FROM or _workers() < 2:
        yield from compose_many(layout, stock, dpi, items, symbols=symbols)
        return
    pool = _pool()
    futures: list[Future[list[Page]]] = [
        pool.submit(_compose_chunk, layout, stock, dpi, items[start : start + CHUNK], symbols)
        for start in range(0, len(items), CHUNK)
    ]
    try:
        for future in futures:
            yield from future.result()
    finally:
        for future in futures:
            future.cancel()
