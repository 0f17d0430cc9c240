"""axe-core in the page: the accessibility rules the browser tests hold every page to."""

from __future__ import annotations

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
    found = await page.evaluate(_RUN)
    return [v for v in found if v["impact"] in BLOCKING]


def describe(url: str, found: list[dict[str, Any]]) -> str:
    """One readable block per violation, for an assertion message."""
    lines = [f"{url}:"]
    for v in found:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"      {node}" for node in v["nodes"])
    return "\n".join(lines)
