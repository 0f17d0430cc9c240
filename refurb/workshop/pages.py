"""The workshop page: work in progress, output per technician and day, returns, and the lists."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect
from pydantic import ValidationError

from refurb.accounts.guards import allow, principal_of
from refurb.core.errors import DomainError
from refurb.core.roles import SUPERVISION
from refurb.web.forms import Form
from refurb.web.i18n import gettext, render_error
from refurb.web.params import RowId
from refurb.web.problems import status_of
from refurb.web.render import page
from refurb.workshop import checklists, choices, overview
from refurb.workshop.api import READERS
from refurb.workshop.schemas import ChoiceIn

__all__ = ("WorkshopPages",)


class WorkshopPages(Controller):
    """What the workshops are doing, for supervisors, coordinators and funders."""

    path = "/workshop"
    include_in_schema = False
    guards = allow(*READERS)

    async def _page(
        self, request: Request[Any, Any, Any], error: str | None = None, status: int = 200
    ) -> Any:
        settings = request.app.state.settings
        return page(
            request,
            "workshop/view.html",
            view=await overview.view(14, settings.tzinfo),
            lists=await choices.list_choices(),
            grades=[(g.value, gettext(rule.definition)) for g, rule in checklists.GRADES.items()],
            may_edit=principal_of(request).role in SUPERVISION,
            error=error,
            status_code=status,
        )

    @get("/")
    async def view_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The last 14 days."""
        return await self._page(request)

    @post("/choices", guards=allow(*SUPERVISION), status_code=303)
    async def add_choice(self, request: Request[Any, Any, Any], data: Form) -> Any:
        """A new OS image or software profile."""
        try:
            await choices.add(
                ChoiceIn.model_validate({"list": data.get("list"), "name": data.get("name", "")})
            )
        except DomainError as error:
            return await self._page(request, render_error(error), status_of(error))
        except ValidationError:
            return await self._page(request, gettext("Give a name of at most 100 characters."), 400)
        return Redirect("/workshop#lists", status_code=303)

    @post("/choices/{choice_id:int}", guards=allow(*SUPERVISION), status_code=303)
    async def toggle_choice(self, request: Request[Any, Any, Any], choice_id: RowId, data: Form) -> Any:
        """Withdraw an entry or bring it back."""
        try:
            await choices.set_active(choice_id, data.get("active") == "1")
        except DomainError as error:
            return await self._page(request, render_error(error), status_of(error))
        return Redirect("/workshop#lists", status_code=303)
