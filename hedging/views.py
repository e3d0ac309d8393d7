"""The dashboard: server-rendered pages over the services. Every page needs a login;
every change (toggle, manual order, schedule, session) needs a staff user and a recent
password (config.logins), and goes to the audit trail."""

import csv
from datetime import timedelta
from decimal import Decimal
from functools import wraps
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.forms.utils import pretty_name
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.generators import SchemaGenerator

from brokers.openalgo import OpenAlgoError
from hedging import charts, filters, tasks
from hedging.core.clock import IST
from hedging.core.decide import ActionRefused, NoStrikeRefused, chosen_strikes
from hedging.forms import (
    AnalyticsForm, ManualForm, PlanForm, ScheduleRowForm, SessionCreateForm, ToggleForm, errors_in_words,
)
from hedging.messages import counted, format_inr, format_lakh
from hedging.models import DailySession, HedgeTransaction
from hedging.services import analytics, audit, forecast, orchestrator, runtime, scheduler, sessions, status, tokens
from schedules.models import WEEKDAYS, StrategySchedule


class Shown:
    """A template's view of an object: its attributes, plus `.inr.NAME` (₹4,33,000)
    and `.lakh.NAME` (₹4.33L) for its rupee amounts."""

    def __init__(self, obj):
        self._obj = obj

    def __getattr__(self, name):
        return getattr(self._obj, name)

    @property
    def inr(self):
        return Formatted(self._obj, format_inr)

    @property
    def lakh(self):
        return Formatted(self._obj, format_lakh)


class ShownSession(Shown):
    @property
    def budget_basis(self) -> str:
        return status.budget_basis(self._obj)


class Formatted:
    def __init__(self, obj, fmt):
        self._obj, self._fmt = obj, fmt

    def __getitem__(self, name):
        value = getattr(self._obj, name)
        return "—" if value is None else self._fmt(value)


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapped


def now():
    return runtime.clock().now()


def today():
    return now().astimezone(IST).date()


# --- status --------------------------------------------------------------------------------


def overview_context(read_now: bool = False) -> dict:
    overview = status.overview(now(), runtime.ports_for, read_now=read_now)
    panels = [
        {
            "s": Shown(s),
            "margin": Shown(s.margin) if s.margin else None,
            "money": Shown(s.money),
            "next_buy": Shown(s.next_buy) if s.next_buy else None,
            "last_action": Shown(s.last_action) if s.last_action else None,
            "gauge": charts.gauge(
                s.margin.utilisation_pct if s.margin else None,
                s.settings.entry_trigger_pct, s.settings.entry_target_pct, s.settings.exit_trigger_pct,
            ),
            "plan": plan_context(s.session),
        }
        for s in overview.sessions
    ]
    return {"overview": overview, "panels": panels}


@login_required
def dashboard(request):
    """The panel as the last tick and the minute's snapshot left it; `?read=now` reads
    the broker for it (reads only: a GET writes nothing)."""
    return render(request, "hedging/dashboard.html", overview_context(request.GET.get("read") == "now"))


@login_required
@require_GET
def status_panel(request):
    """The panel alone, for the page's auto-refresh."""
    return render(request, "hedging/_status.html", overview_context())


def plan_context(session: DailySession, query=None) -> dict:
    """"Today's plan": the stored morning forecast beside the day so far or, when the
    what-if form has a field filled, a forecast made now with those values and saved
    nowhere."""
    form = PlanForm(session, scheduler.todays_rows(session), query if query and len(query) else None)
    actual = forecast.plan_against_actual(session)
    context: dict[str, Any] = {"session": session, "form": form, "actual": actual, "forecast": actual and actual["forecast"], "what_if": False}
    if form.is_bound and form.is_valid() and form.overrides():
        context.update(forecast=None, what_if=True)
        try:
            context["forecast"] = forecast.forecast_for_session(session, form.overrides(), broker=runtime.broker_for(session.account)).detail()
        except forecast.ForecastError as refused:
            if refused.field in form.fields:  # under the field its label names
                form.add_error(refused.field, refused.reason)
            else:
                form.add_error(None, f"{pretty_name(refused.field)}: {refused.reason}")
        except (OpenAlgoError, ValueError) as failure:
            context["problem"] = f"Broker: {failure}"
    if context["forecast"]:
        plan = context["forecast"]
        context["chart"] = charts.plan_chart(plan, actual)
        context["costs"] = {name: format_inr(charts.rupees(plan[name]).quantize(Decimal(1))) for name in ("cost", "cost_low", "cost_high", "cap")}
    return context


@login_required
@require_GET
def plan_panel(request, pk):
    """A session's plan alone: the page fetches it for a what-if (the form's GET)."""
    session = get_object_or_404(DailySession.objects.select_related("account"), pk=pk, is_replay=False)
    return render(request, "hedging/_plan.html", {"plan": plan_context(session, request.GET)})


@staff_required
@require_POST
def toggle(request):
    form = ToggleForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not toggled: {errors_in_words(form)}")
        return redirect("dashboard")
    session, enabled = form.cleaned_data["session"], form.cleaned_data["enabled"]
    with transaction.atomic():
        if sessions.set_auto(enabled, request.user, now(), session, deliver=tasks.deliver_alert_later):
            audit.switched(audit.by(request), session, enabled)
    scope = f"{session.account} {session.index_name}" if session else "all sessions"
    messages.success(request, f"Auto-hedge {'on' if enabled else 'off'} for {scope}.")
    return redirect("dashboard")


@staff_required
@require_POST
def manual(request):
    form = ManualForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Refused: {errors_in_words(form)}")
        return redirect("dashboard")
    data = form.cleaned_data
    session, strikes = data["session"], chosen_strikes(data["ce_strike"], data["pe_strike"])
    try:
        tx = orchestrator.manual(
            session.pk, data["action"], data["hedge_baskets"], request.user, runtime.ports_for(session.account), strikes=strikes
        )
    except NoStrikeRefused as refused:  # the nearest candidates, to choose from
        context = {"session": session, "hedge_baskets": data["hedge_baskets"], "refusal": refused}
        return render(request, "hedging/manual_pick.html", context)
    except ActionRefused as refused:
        field = "" if refused.field == "non_field_errors" else f" ({pretty_name(refused.field).lower()})"
        messages.error(request, f"Refused{field}: {refused}")
    except (OpenAlgoError, ValueError) as failure:
        messages.error(request, f"Broker: {failure}")
    else:
        audit.ordered(audit.by(request), tx, strikes)
        messages.success(request, f"Manual {tx.action.lower()} of {counted(tx.hedge_baskets, 'hedge basket')}: {tx.get_status_display().lower()}.")
    return redirect("dashboard")


# --- schedule ------------------------------------------------------------------------------


@login_required
def schedule(request):
    rows = list(StrategySchedule.objects.select_related("account").order_by("account__name", "index_name", "entry_time", "name"))
    day = today()
    todays = [row for row in rows if row.enabled and row.runs_on(day.weekday())]
    week = [(row, [row.runs_on(i) for i in range(len(WEEKDAYS))]) for row in rows]
    return render(request, "hedging/schedule.html", {"day": day, "todays": todays, "week": week, "weekdays": WEEKDAYS})


@staff_required
def schedule_edit(request, pk=None):
    row = get_object_or_404(StrategySchedule, pk=pk) if pk else None
    form = ScheduleRowForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            before = audit.snapshot(StrategySchedule.objects.get(pk=pk)) if pk else None
            saved = form.save()
            audit.saved(audit.by(request), saved, before)
        messages.success(request, f"Schedule row {saved.name} saved.")
        return redirect("schedule")
    return render(request, "hedging/schedule_form.html", {"form": form, "row": row})


@staff_required
@require_POST
def schedule_enable(request, pk):
    row = get_object_or_404(StrategySchedule, pk=pk)
    before = audit.snapshot(row)
    row.enabled = request.POST.get("enabled") == "on"
    with transaction.atomic():
        row.save(update_fields=["enabled"])
        audit.saved(audit.by(request), row, before)
    messages.success(request, f"{row.name} {'enabled' if row.enabled else 'disabled'}.")
    return redirect("schedule")


@staff_required
def schedule_delete(request, pk):
    """A page asking first (no script needed); its POST, carrying the row's name as the
    confirmation, deletes the row (any other POST is only asked again)."""
    row = get_object_or_404(StrategySchedule.objects.select_related("account"), pk=pk)
    if request.method == "POST" and request.POST.get("confirm") == row.name:
        with transaction.atomic():
            audit.deleted(audit.by(request), row, audit.snapshot(row))  # before the delete forgets the row's id
            row.delete()
        messages.success(request, f"Schedule row {row.name} deleted.")
        return redirect("schedule")
    return render(request, "hedging/schedule_delete.html", {"row": row})


# --- sessions ------------------------------------------------------------------------------


@login_required
def session_list(request):
    day = today()
    form = SessionCreateForm(request.POST or None, initial={"num_baskets": 1})
    if request.method == "POST":
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        if form.is_valid() and (created := create_session(form, day)):
            audit.saved(audit.by(request), created, None)
            messages.success(request, "Today's session created from the defaults.")
            return redirect("sessions")
    past = DailySession.objects.exclude(date=day, is_replay=False).select_related("account").order_by("-date", "-pk")
    page = Paginator(past, 30).get_page(request.GET.get("page"))
    todays = DailySession.objects.filter(date=day, is_replay=False).select_related("account")
    return render(
        request,
        "hedging/sessions.html",
        {
            "day": day, "form": form, "todays": [ShownSession(s) for s in todays],
            "page": page, "past": [ShownSession(s) for s in page],
        },
    )


def create_session(form: SessionCreateForm, day) -> DailySession | None:
    data = form.cleaned_data
    account = data["account"]
    try:
        expiry = data["expiry"] or sessions.default_expiry(data["index_name"], day, lambda: runtime.broker_for(account))
        return sessions.create(account, data["index_name"], day, expiry, data["num_baskets"])
    except ValidationError as invalid:
        for field, errors in invalid.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None


@login_required
def session_detail(request, pk):
    session = get_object_or_404(DailySession.objects.select_related("account"), pk=pk)
    transactions = session.transactions.select_related("requested_by").prefetch_related("orders").order_by("decided_at")
    return render(
        request,
        "hedging/session_detail.html",
        {
            "session": ShownSession(session),
            "chart": charts.utilisation_chart(analytics.utilisation_series(session)),
            "executions": session.executions.order_by("planned_entry", "name"),
            "transactions": [Shown(tx) for tx in transactions],
            "alerts": session.alerts.order_by("created_at", "pk"),
        },
    )


# --- transactions --------------------------------------------------------------------------


def filtered_transactions(request) -> filters.TransactionFilter:
    """The list's filters, the API's (hedging/filters.py). A bad value shows no rows: a
    form error on the page, a 400 for the CSV, never every row."""
    return filters.TransactionFilter(request.GET, queryset=filters.transactions())


@login_required
def transaction_list(request):
    found = filtered_transactions(request)
    rows = found.qs if found.is_valid() else HedgeTransaction.objects.none()
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "hedging/transactions.html",
        {"form": found.form, "page": page, "rows": [Shown(tx) for tx in page], "query": query.urlencode()},
    )


CSV_COLUMNS = [
    "id", "decided_at", "session", "replay", "action", "origin", "requested_by", "hedge_baskets", "status", "reason",
    "for_entries", "strikes", "prices", "util_before_pct", "util_projected_pct", "util_after_pct", "expected_cost",
    "cost", "latency_ms", "error",
]


@login_required
def transaction_csv(request):
    found = filtered_transactions(request)
    if not found.is_valid():
        refused = f"Not exported: {errors_in_words(found.form)}\n"
        return HttpResponseBadRequest(refused, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="hedge-transactions.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(tx) for tx in found.qs)
    return response


def csv_row(tx: HedgeTransaction) -> list:
    """One action as a spreadsheet reads it: yes/no, rupees with 2 decimals, whole ms."""
    orders = list(tx.orders.all())
    return [
        tx.pk, tx.decided_at.astimezone(IST).isoformat(), str(tx.session), yes_no(tx.session.is_replay), tx.action, tx.origin,
        tx.requested_by.username if tx.requested_by else "", tx.hedge_baskets, tx.status, tx.reason,
        " ".join(tx.for_entries), " ".join(f"{o.option_type} {o.strike}" for o in orders),
        " ".join(f"{o.option_type} {rupees(o.average_price if o.average_price is not None else o.limit_price)}" for o in orders),
        tx.util_before_pct, tx.util_projected_pct, tx.util_after_pct, rupees(tx.expected_cost), rupees(tx.cost),
        "" if tx.latency_ms is None else round(tx.latency_ms), tx.error,
    ]


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def rupees(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


# --- analytics -----------------------------------------------------------------------------


@login_required
def analytics_page(request):
    day = today()
    defaults = {"date_from": day - timedelta(days=30), "date_to": day, "include_replays": True}
    form = AnalyticsForm(request.GET or defaults)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        summary = analytics.summarise(data["date_from"], data["date_to"], data["include_replays"])
        session = data["session"] or latest_with_readings(summary)
        context.update(summary_context(summary))
        if session:
            context.update(session=session, utilisation=charts.utilisation_chart(analytics.utilisation_series(session)))
    return render(request, "hedging/analytics.html", context)


def latest_with_readings(summary: analytics.Summary) -> DailySession | None:
    return next((d.session for d in reversed(summary.days) if d.session.snapshots.exists()), None)


def summary_context(summary: analytics.Summary) -> dict:
    groups = [(d, f"{d.session.date:%d %b}", "replay" if d.session.is_replay else d.session.index_name) for d in summary.days]
    return {
        "summary": summary,
        "days": [Shown(d) for d in summary.days],
        "totals": Shown(SimpleNamespace(**summary.totals())),
        "spend_chart": charts.bar_chart(
            [charts.BarGroup(label, sub, (d.net, d.static_cost)) for d, label, sub in groups],
            [("Auto-Hedge (net)", "actual"), ('"Hedge every basket" (estimate)', "static")],
            lambda value: format_lakh(Decimal(f"{value:.0f}")),
            "Hedge spend per day",
        ),
        "entries_chart": charts.bar_chart(
            [charts.BarGroup(label, sub, (d.entries_hedged, d.entries_unhedged)) for d, label, sub in groups],
            [("Entries hedged", "hedged"), ("Entries that needed no hedge", "avoided")],
            lambda value: f"{value:.0f}",
            "Entries per day",
            min_step=1,
        ),
    }


# --- API reference and token -------------------------------------------------------------


@never_cache
@login_required
def api_token(request):
    """The user's own API token: made or replaced (the key shown on this answer only),
    or revoked. Posting is acting: the password is asked again after some hours."""
    key, replaced = None, False
    if request.method == "POST":
        what = request.POST.get("do")
        if what == "revoke":
            if tokens.revoke(audit.by(request), request.user):
                messages.success(request, "Token revoked: calls with it are refused from now on.")
            return redirect("api-token")
        if what != "make":
            return HttpResponseBadRequest("Nothing done: say make or revoke.\n", content_type="text/plain; charset=utf-8")
        replaced, key = tokens.current(request.user) is not None, tokens.make(audit.by(request), request.user)
    token = tokens.current(request.user)
    return render(request, "hedging/api_token.html", {
        "key": key, "replaced": replaced, "token": token, "hint": token and tokens.hint(token.key),
        "base": request.build_absolute_uri("/").rstrip("/"),
    })


# Answers any endpoint may give: the page says them once, at the top, not per endpoint.
COMMON_ANSWERS = {"403", "404", "413", "414", "415", "429"}


@login_required
def api_reference(request):
    """The OpenAPI schema (served raw at /api/schema/) as a page: no CDN, no script."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    shapes = schema.get("components", {}).get("schemas", {})
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("description", ""),
            "parameters": [(p["name"], p["in"], p.get("required", False), describe(p.get("schema", {})), p.get("description", ""))
                           for p in operation.get("parameters", [])],
            "request": describe(json_schema(operation.get("requestBody", {}))),
            "responses": [answer_in_words(code, answer, shapes) for code, answer in operation.get("responses", {}).items()
                          if code not in COMMON_ANSWERS],
        }
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    components = [
        (name, [(field, describe(spec), field in component.get("required", []), spec.get("description", ""))
                for field, spec in component.get("properties", {}).items()], describe(component) if "enum" in component else "")
        for name, component in shapes.items()
        if not name.endswith("Errors")  # each endpoint's 400 names its fields itself
    ]
    return render(request, "hedging/api_reference.html", {
        "info": schema["info"], "operations": operations, "components": components,
        "base": request.build_absolute_uri("/").rstrip("/"),
    })


def answer_in_words(code: str, answer: dict, shapes: dict) -> dict:
    """One answer of an endpoint: its schema's name (a link), or for a 400 the fields
    its errors may be under."""
    spec = json_schema(answer)
    errors = next((ref_name(part) for part in spec.get("oneOf", []) if ref_name(part).endswith("Errors")), None)
    if errors:
        found = shapes[errors]
        fields = [name for name in found["properties"] if name != "non_field_errors"]
        fields += [pattern.lstrip("^").replace("\\", "") + "NAME" for pattern in found.get("patternProperties", {})]  # ^baskets\.
        return {"code": code, "fields": fields, "help": answer.get("description", "")}
    link = ref_name(spec.get("items", spec))
    return {"code": code, "kind": describe(spec), "link": link, "help": answer.get("description", "")}


def ref_name(spec: dict) -> str:
    return spec.get("$ref", "").rsplit("/", 1)[-1]


def json_schema(body: dict) -> dict:
    return body.get("content", {}).get("application/json", {}).get("schema", {})


def describe(spec: dict) -> str:
    """A schema's type in a few words: "string (decimal)", "array of Transaction", "Session"."""
    if spec.get("nullable"):
        return describe({k: v for k, v in spec.items() if k != "nullable"}) + " or null"
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "allOf" in spec or "oneOf" in spec:
        return " | ".join(describe(part) for part in (spec["allOf"] if "allOf" in spec else spec["oneOf"]))
    if spec.get("type") == "array":
        return f"array of {describe(spec.get('items', {}))}"
    if "enum" in spec:
        return "one of " + ", ".join(str(value) for value in spec["enum"] if value not in ("", None))
    kind = spec.get("type", "")
    return f"{kind} ({spec['format']})" if spec.get("format") else kind
