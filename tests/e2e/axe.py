"""axe-core in the page: the accessibility rules the browser tests hold every page to."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")

#: Impacts that fail a test; "moderate" and "minor" are reported by axe but not held here.
BLOCKING = frozenset({"critical", "serious"})

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(
      n => n.target.join(" ") + " — " + (n.failureSummary || "").split("\\n").slice(1, 2).join("")),
  }));
}"""


async def violations(page: Any) -> list[dict[str, Any]]:
    """The critical and serious axe-core violations of the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=AXE_SOURCE)
    for _ in range(300):  # the page fixture's audit of the last load may be running: wait for it
        try:
            found = await page.evaluate(_RUN)
            break
        except Exception as error:
            if "axe is not defined" in str(error):  # a new document arrived since the check: inject again
                await page.add_script_tag(content=AXE_SOURCE)
                continue
            if "already running" not in str(error):
                raise
            await asyncio.sleep(0.1)
    else:
        raise AssertionError("axe-core stayed busy for 30 s")
    return [v for v in found if v["impact"] in BLOCKING]


def describe(url: str, found: list[dict[str, Any]]) -> str:
    """One readable block per violation, for an assertion message."""
    lines = [f"{url}:"]
    for v in found:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"      {node}" for node in v["nodes"])
    return "\n".join(lines)


class Auditor:
    """Runs axe-core on every page a tab loads, and once more on the page as the test leaves it."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.found: list[str] = []
        self.audited = 0
        self._tasks: list[asyncio.Task[None]] = []
        page.on("load", lambda _page: self._tasks.append(asyncio.ensure_future(self._audit())))

    async def _audit(self) -> None:
        url = self.page.url
        try:
            found = await violations(self.page)
        except Exception as error:  # the test navigated on meanwhile: the next load is audited
            if self.page.is_closed() or "context was destroyed" in str(error) or "navigat" in str(error):
                return
            raise
        self.audited += 1
        if found:
            self.found.append(describe(url, found))

    async def finish(self) -> list[str]:
        """Wait for the audits under way, audit the page as it is now, and say what was found."""
        await asyncio.gather(*self._tasks)
        if not self.page.is_closed() and self.page.url.startswith("http"):
            await self._audit()
        return list(dict.fromkeys(self.found))
