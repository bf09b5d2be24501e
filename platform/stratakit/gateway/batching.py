"""Opportunistic micro-batching for fast-path models.

Requests that arrive together (in the same turn of the event loop) are stacked into one
matrix and answered by one model call, then split back by row. Nothing waits for a batch
to fill: a lone request is predicted at once, so batching only ever removes latency. The
per-call overhead of a scikit-learn model (hundreds of microseconds of input checks) is
then paid once per batch instead of once per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

Predict = Callable[[np.ndarray], Any]


class MicroBatcher:
    """Coalesces concurrent calls of one model's predict function on one event loop."""

    def __init__(self, predict: Predict, max_rows: int = 4096) -> None:
        self._predict = predict
        self._max_rows = max_rows
        self._pending: list[tuple[np.ndarray, asyncio.Future[Any]]] = []
        self._rows = 0
        self._scheduled = False
        self.calls = 0
        """Model calls made; with ``requests`` it shows how much batching happened."""
        self.requests = 0

    async def __call__(self, matrix: np.ndarray) -> Any:
        """The prediction for ``matrix``'s rows, computed together with concurrent callers."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((matrix, future))
        self._rows += len(matrix)
        self.requests += 1
        if self._rows >= self._max_rows:
            self._run()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._run)
        return await future

    def _run(self) -> None:
        self._scheduled = False
        pending, self._pending, self._rows = self._pending, [], 0
        if not pending:
            return
        if len(pending) == 1:
            self._one(*pending[0])
            return
        stacked = np.concatenate([matrix for matrix, _ in pending])
        self.calls += 1
        try:
            outputs = np.asarray(self._predict(stacked))
        except Exception:
            outputs = None
        if outputs is None or outputs.ndim == 0 or len(outputs) != len(stacked):
            # One request's rows broke the batch (or the model does not answer row by row):
            # answer each on its own so the others still succeed.
            for matrix, future in pending:
                self._one(matrix, future)
            return
        start = 0
        for matrix, future in pending:
            end = start + len(matrix)
            if not future.done():
                future.set_result(outputs[start:end])
            start = end

    def _one(self, matrix: np.ndarray, future: asyncio.Future[Any]) -> None:
        self.calls += 1
        try:
            result = self._predict(matrix)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(result)
