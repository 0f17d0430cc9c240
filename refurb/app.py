"""create_app(settings): all the wiring in one place."""

from __future__ import annotations

import contextlib
import datetime
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import FormMultiDict
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Empty, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from refurb import __version__
from refurb.accounts.api import MeController
from refurb.accounts.auth import AuthMiddleware, RedactQueryTokens, bearer_token
from refurb.accounts.guards import RoleCheck, check_roles_in_middleware
from refurb.accounts.pages import LoginController
from refurb.core.codes import parse_code
from refurb.core.errors import DomainError
from refurb.core.i18n import N_
from refurb.core.kinds import DeviceKind
from refurb.core.lifecycle import Action
from refurb.db import connection_pool, engine_for, use_engine
from refurb.devices.api import DeviceController
from refurb.devices.pages import DevicePages, DeviceShortLink
from refurb.distribution.api import HouseholdController, ProgrammeController
from refurb.distribution.commission_api import AllocationController, CommissionController
from refurb.distribution.commission_pages import AllocationPages, CommissionPages
from refurb.distribution.pages import HouseholdPages, ProgrammePages
from refurb.distribution.round_api import (
    AppointmentController,
    ConflictController,
    HandoverController,
    RoundController,
)
from refurb.distribution.round_plan_pages import RoundPages
from refurb.erasure import certificates
from refurb.erasure.api import (
    CertificateController,
    CertificateKeysController,
    ErasureController,
    ErasureReportController,
    ErasureSupervisionController,
    VerifyController,
)
from refurb.erasure.pages import ErasurePages, SupervisionPages, VerifyPages
from refurb.home import HealthController, HomeController
from refurb.intake.api import AgreementController, BatchController
from refurb.intake.pages import AgreementPages, BatchPages, CollectPages
from refurb.intake.profiles import FIELD_LABELS
from refurb.printing.api import LabelController, PrinterController
from refurb.printing.kinds import LabelKind
from refurb.printing.pages import LabelPages
from refurb.printing.parallel import shutdown as stop_label_workers
from refurb.settings import Settings
from refurb.stations.api import CodeController, ScanController, StationController
from refurb.stations.pages import StationPages
from refurb.stock.api import StockController
from refurb.stock.locations_api import LocationController
from refurb.stock.pages import StockPages
from refurb.web import i18n
from refurb.web.content import screen_request
from refurb.web.context import RequestContextMiddleware
from refurb.web.idempotency import IdempotencyMiddleware
from refurb.web.openapi import use_problem_answers
from refurb.web.problems import exception_handlers
from refurb.web.render import code_link, code_url
from refurb.web.security import SecurityHeadersMiddleware
from refurb.wiring import wire
from refurb.work import WorkController
from refurb.workshop import licence_keys
from refurb.workshop.api import WorkshopController
from refurb.workshop.licence_api import LicenceController, LicencePoolController
from refurb.workshop.licence_pages import LicencePages
from refurb.workshop.pages import WorkshopPages
from refurb.workshop.recycling_api import RecyclingLotController, WasteRegisterController
from refurb.workshop.recycling_pages import RecyclingPages

__all__ = ("bind", "create_app")

PACKAGE = Path(__file__).parent
TEMPLATE_DIRS = [
    PACKAGE / area / "templates"
    for area in (
        "web",
        "accounts",
        "devices",
        "stations",
        "printing",
        "intake",
        "erasure",
        "stock",
        "workshop",
        "distribution",
    )
]
STATIC_DIR = PACKAGE / "web" / "static"
SWAGGER = "/static/vendor/swagger-ui"
FAVICON = "<link rel='icon' type='image/svg+xml' href='/static/favicon.svg'>"
#: Reasons Refurb itself writes into events (free text otherwise): shown in the reader's language.
SYSTEM_REASONS = frozenset({N_("demo data")})
CREATION_LABELS = {"declare": N_("declared"), "import": N_("imported"), "label_printed": N_("label printed")}


class SessionCSRFMiddleware(CSRFMiddleware):
    """CSRF protects what a browser's cookies can do.

    Bearer-token calls carry no cookie to forge, and an API call with no session
    at all is refused by its guard (401), so both skip the check; page forms
    (login included) and cookie-authenticated API calls do not.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the CSRF token unless no cookie can be abused."""
        api_without_session = scope.get("path", "").startswith("/api/") and scope.get("auth") is None
        if scope["type"] == "http" and (bearer_token(scope) is not None or api_without_session):
            await self.app(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        except PermissionDeniedException:
            # the check parsed the form to find the token: close the uploads it spooled
            form = ScopeState.from_scope(scope).form
            if form is not Empty:
                await FormMultiDict.from_form_data(form).close()
            raise


def _jinja(settings: Settings) -> Any:
    def configure(engine: JinjaTemplateEngine) -> None:
        environment = engine.engine
        i18n.install(environment)

        def action_label(name: str) -> str:
            if name in CREATION_LABELS:
                return i18n.gettext(CREATION_LABELS[name])
            try:
                return i18n.gettext(Action(name).done_label)
            except ValueError:
                return name

        def kind_label(value: str) -> str:
            try:
                return i18n.gettext(DeviceKind(value).label)
            except ValueError:
                return i18n.gettext("Total") if value == "total" else value

        def reason_text(reason: str) -> str:
            return i18n.gettext(reason) if reason in SYSTEM_REASONS else reason

        def label_kind_label(value: str) -> str:
            try:
                return i18n.gettext(LabelKind(value).label)
            except ValueError:
                return value

        def field_label(name: str) -> str:
            return i18n.gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name

        def display_code(text: str) -> str:
            try:
                return parse_code(text).display
            except DomainError:
                return text

        environment.filters.update(code_link=code_link, code_url=code_url)
        environment.globals.update(
            code_link=code_link,
            action_label=action_label,
            display_code=display_code,
            kind_label=kind_label,
            label_kind_label=label_kind_label,
            reason_text=reason_text,
            field_label=field_label,
        )

    return configure


def bind(app: Litestar, settings: Settings) -> None:
    """Point a built app at the database, files and keys of `settings`.

    Building the routes is most of the cost of an app (about 0.3 s); two settings
    that differ only in `database_url` or `var_dir` can share one built app.
    """
    use_engine(engine_for(settings.database))
    i18n.set_timezone(settings.tzinfo)
    certificates.configure(settings)
    licence_keys.configure(settings)
    app.state.settings = settings


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the service for `settings` (by default, from the environment).

    Points the tables at the configured database; opening the PostgreSQL pool
    happens in the app's lifespan. Migrations are not run here (`refurb db upgrade`).
    """
    settings = settings or Settings()
    wire()
    secret_key = settings.resolved_secret_key()
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQueryTokens) for f in access_log.filters):
        access_log.addFilter(RedactQueryTokens())

    @contextlib.asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        async with connection_pool(app.state.settings):
            yield

    @contextlib.asynccontextmanager
    async def frozen_heap(_: Litestar) -> AsyncIterator[None]:
        # What start-up built (routes, templates, schemas) lives as long as the process:
        # out of the collector's sight, a full collection no longer walks it mid-request.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()

    @contextlib.asynccontextmanager
    async def label_workers(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            stop_label_workers()

    csrf = CSRFConfig(
        secret=secret_key,
        cookie_name="refurb_csrf",
        header_name="x-csrftoken",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
    )
    app = Litestar(
        route_handlers=[
            HealthController,
            HomeController,
            LoginController,
            MeController,
            DeviceController,
            DevicePages,
            ScanController,
            StationController,
            CodeController,
            StationPages,
            LabelController,
            PrinterController,
            LabelPages,
            AgreementController,
            BatchController,
            AgreementPages,
            BatchPages,
            CollectPages,
            ErasureController,
            ErasureReportController,
            ErasureSupervisionController,
            CertificateController,
            CertificateKeysController,
            VerifyController,
            ErasurePages,
            SupervisionPages,
            VerifyPages,
            StockController,
            WorkshopController,
            WorkshopPages,
            LocationController,
            StockPages,
            LicencePoolController,
            LicenceController,
            LicencePages,
            RecyclingLotController,
            WasteRegisterController,
            RecyclingPages,
            ProgrammeController,
            HouseholdController,
            CommissionController,
            AllocationController,
            RoundController,
            AppointmentController,
            HandoverController,
            ConflictController,
            RoundPages,
            CommissionPages,
            AllocationPages,
            ProgrammePages,
            HouseholdPages,
            DeviceShortLink,
            WorkController,
            create_static_files_router(
                path="/static", directories=[STATIC_DIR], name="static", opt={"public": True}
            ),
        ],
        middleware=[
            DefineMiddleware(
                AuthMiddleware,
                secret_key=secret_key,
                session_lifetime=datetime.timedelta(hours=settings.session_hours),
            ),
            DefineMiddleware(SessionCSRFMiddleware, config=csrf),
            DefineMiddleware(IdempotencyMiddleware, max_body_bytes=settings.max_body_bytes),
            RoleCheck,  # innermost, where Litestar would run the role guards
        ],
        exception_handlers=exception_handlers,
        template_config=TemplateConfig(
            directory=TEMPLATE_DIRS, engine=JinjaTemplateEngine, engine_callback=_jinja(settings)
        ),
        openapi_config=OpenAPIConfig(
            title="Refurb API",
            version=__version__,
            description=(
                "Donated computers from donor to household. Errors are RFC 9457 problems with a `code`."
            ),
            path="/schema",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A token from `refurb token create --username …`.",
                    )
                }
            ),
            security=[{"bearer": []}],
            render_plugins=[
                SwaggerRenderPlugin(
                    js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
                    path="/swagger",
                    favicon=FAVICON,
                )
            ],
        ),
        lifespan=[database, label_workers, frozen_heap],
        request_max_body_size=settings.max_body_bytes,
        before_request=screen_request,
    )
    use_problem_answers(app)
    check_roles_in_middleware(app)
    app.state.secret_key = secret_key
    bind(app, settings)
    # Outside the router, so even a 404 gets a request id and the reader's language.
    app.asgi_handler = RequestContextMiddleware(app.asgi_handler, default_locale=settings.locale)
    https = settings.base_url.startswith("https:")
    app.asgi_handler = SecurityHeadersMiddleware(app.asgi_handler, https=https)
    return app
