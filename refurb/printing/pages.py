"""The label preview page: see a label, pick kind, stock and printer, print it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from refurb.accounts.guards import allow, principal_of
from refurb.core.codes import parse_code
from refurb.printing import service
from refurb.printing.kinds import KIND_ROLES, KIND_TYPES, LabelKind
from refurb.web.i18n import gettext
from refurb.web.render import page

__all__ = ("LabelPages",)


class LabelPages(Controller):
    """Server-rendered; printing goes through `POST /api/v1/labels/print-jobs`."""

    path = "/labels"
    include_in_schema = False
    guards = allow()

    @get("/{code:str}")
    async def preview(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        kind: Annotated[str | None, QueryParameter()] = None,
        stock: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        """The label as it will print, and the print form."""
        principal = principal_of(request)
        parsed = parse_code(code)
        chosen = service.parse_kind(kind, parsed)
        await service.check_role(chosen, parsed, principal)
        catalogue = service.current_catalogue()
        chosen_stock = service.resolve_stock(chosen, stock, catalogue)
        kinds = [
            {"value": k.value, "label": gettext(k.label), "available": service.has_provider(k)}
            for k in LabelKind
            if (KIND_TYPES[k] is parsed.type or (k is LabelKind.DEVICE and parsed.type.value == "B"))
            and principal.role in KIND_ROLES[k]
        ]
        template = catalogue.templates[chosen]
        stocks = [{"value": name, "label": catalogue.stocks[name].title} for name in template.stocks]
        return page(
            request,
            "printing/preview.html",
            code=parsed,
            kind=chosen,
            kinds=kinds,
            stock=chosen_stock,
            stocks=stocks,
            printers=[] if principal.scoped_to_organisation else await service.list_printers(),
            available=service.has_provider(chosen),
        )
