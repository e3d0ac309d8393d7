"""The REST API: thin faces over the services. Reading needs an authenticated user;
anything that can place or cancel an order, toggle auto-hedge, or change a schedule or
session needs a staff user, and goes to the audit trail. The password is not asked
again here as on the pages: a token is not a login (docs/security.md)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError as DjangoValidationError
from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from brokers.openalgo import OpenAlgoError
from hedging import filters, tasks
from hedging.api import serializers as s
from hedging.api.parsers import JSONParser, TooLarge
from hedging.api.schema import ApiSchema, broker_down
from hedging.core.clock import IST
from hedging.core.decide import BUY, EXIT, ActionRefused, NoStrikeRefused, chosen_strikes
from hedging.models import Control, DailySession
from hedging.services import analytics, audit, forecast, orchestrator, runtime, sessions, status as status_service
from schedules.models import StrategySchedule


class StaffWrites(BasePermission):
    """Anyone logged in may read; only staff may change."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (request.method in SAFE_METHODS or user.is_staff))


class JsonApi(APIView):
    # Bodies are JSON only: form encodings can say neither null nor a list of weekdays;
    # nested deep or over the size limit, refused (hedging/api/parsers.py). The schema
    # documents every answer (hedging/api/schema.py). No docstring here: a view's own is
    # its description on the API page.

    parser_classes = [JSONParser]
    schema = ApiSchema()

    def initial(self, request, *args, **kwargs):
        """A query parameter given twice is refused, not read as its last value (the
        fuzzer's `?status=bogus&status=filled` was taken as a valid filter)."""
        super().initial(request, *args, **kwargs)
        repeated = sorted(name for name, values in request.query_params.lists() if len(values) > 1)
        if repeated:
            raise ValidationError({"non_field_errors": [f"Give each query parameter once: {', '.join(repeated)}."]})

    def handle_exception(self, exc):
        if isinstance(exc, RequestDataTooBig):  # Django's 400 page otherwise
            exc = TooLarge(f"The body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
        return super().handle_exception(exc)


class BrokerUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The broker did not answer."
    default_code = "broker_unavailable"


def query(serializer_class, request, **context):
    serializer = serializer_class(data=request.query_params, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def now():
    return runtime.clock().now()


class StatusView(JsonApi):
    """Each of today's sessions now (or the one asked for): used margin and utilisation from the
    minute's snapshot (or from the broker, read=now), the thresholds, hedges held, spend against the cap, the next entries with the
    utilisation each would bring, and what the rules say now."""

    @extend_schema(parameters=[s.StatusQuerySerializer], responses=s.StatusSerializer)
    def get(self, request):
        asked = query(s.StatusQuerySerializer, request)
        session = asked.get("session")
        overview = status_service.overview(now(), runtime.ports_for, [session] if session else None, asked.get("read") == "now")
        return Response(s.StatusSerializer(overview).data)


class ToggleView(JsonApi):
    """Turn auto-hedge on or off for one session or, without a session, for all (staff)."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=s.ToggleSerializer, responses=s.ToggleResultSerializer)
    def post(self, request):
        serializer = s.ToggleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session = data.get("session")
        with transaction.atomic():
            alert = sessions.set_auto(data["enabled"], request.user, now(), session, data["reason"], tasks.deliver_alert_later)
            if alert:
                audit.switched(audit.by(request), session, data["enabled"])
        result = {
            "scope": "session" if session else "global",
            "session": session.pk if session else None,
            "enabled": data["enabled"],
            "changed": alert is not None,
            "auto_global": Control.get().auto_enabled,
        }
        return Response(s.ToggleResultSerializer(result).data)


class ManualView(JsonApi):
    permission_classes = [IsAdminUser]
    action: str = ""
    body: type[s.ManualSerializer] = s.ManualSerializer

    def order(self, request):
        serializer = self.body(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session, strikes = data["session"], chosen_strikes(data.get("ce_strike"), data.get("pe_strike"))
        try:
            ports = runtime.ports_for(session.account)
        except ValueError as no_key:  # the account's API key variable is unset
            raise BrokerUnavailable(str(no_key)) from None
        try:
            tx = orchestrator.manual(session.pk, self.action, data["hedge_baskets"], request.user, ports, data["client_key"], strikes)
        except NoStrikeRefused as refused:
            candidates = s.CandidatesSerializer(refused.candidates).data
            return Response({"non_field_errors": [str(refused)], "candidates": candidates}, status=status.HTTP_400_BAD_REQUEST)
        except ActionRefused as refused:
            raise s.serializers.ValidationError({refused.field: [str(refused)]}) from None
        except OpenAlgoError as failure:
            raise BrokerUnavailable(str(failure)) from None
        audit.ordered(audit.by(request), tx, strikes)
        return Response(s.TransactionSerializer(tx).data, status=status.HTTP_201_CREATED)


class ManualBuyView(ManualView):
    """Buy hedge baskets now for a session (staff), at the strikes the rules choose or at a CE and
    a PE strike chosen by hand (`ce_strike`, `pe_strike`: the premium and distance windows left
    aside; cooldown, daily cap, live bid/ask and never a strike the account is short still hold).
    With no eligible strike the 400 lists each side's nearest `candidates`. Answered once recorded
    (status pending): the worker sends the orders. Repeating a client_key never orders twice."""

    action = BUY
    body = s.ManualBuySerializer
    error_fields = {"candidates": s.CandidatesSerializer}

    @extend_schema(request=s.ManualBuySerializer, responses={201: s.TransactionSerializer, 503: broker_down()})
    def post(self, request):
        return self.order(request)


class ManualExitView(ManualView):
    """Sell hedge baskets now for a session (staff). Answered once recorded (status pending):
    the worker sends the orders. Repeating a client_key never orders twice."""

    action = EXIT

    @extend_schema(request=s.ManualSerializer, responses={201: s.TransactionSerializer, 503: broker_down()})
    def post(self, request):
        return self.order(request)


class TransactionList(JsonApi, generics.ListAPIView):
    """Every hedge action, newest first, 50 a page; the same filters as the Transactions page."""

    serializer_class = s.TransactionSerializer
    filter_backends = [DjangoFilterBackend]  # hedging/filters.py: the page's and the CSV's too
    filterset_class = filters.TransactionFilter

    def get_queryset(self):
        return filters.transactions()


class TransactionDetail(JsonApi, generics.RetrieveAPIView):
    """One hedge action, with its leg orders."""

    serializer_class = s.TransactionSerializer
    queryset = filters.transactions()


class ScheduleList(JsonApi, generics.ListCreateAPIView):
    """The strategy schedule: every row (a few dozen at most, so not paginated)."""

    permission_classes = [StaffWrites]
    serializer_class = s.ScheduleSerializer
    queryset = StrategySchedule.objects.select_related("account").order_by("account__name", "index_name", "entry_time", "name")
    pagination_class = None

    @transaction.atomic
    def perform_create(self, serializer):
        audit.saved(audit.by(self.request), serializer.save(), None)


class ScheduleDetail(JsonApi, generics.RetrieveUpdateDestroyAPIView):
    """One schedule row; changing or deleting it needs a staff user."""

    permission_classes = [StaffWrites]
    serializer_class = s.ScheduleSerializer
    queryset = StrategySchedule.objects.select_related("account")

    @transaction.atomic
    def perform_update(self, serializer):
        before = audit.snapshot(serializer.instance)
        audit.saved(audit.by(self.request), serializer.save(), before)

    @transaction.atomic
    def perform_destroy(self, instance):
        audit.deleted(audit.by(self.request), instance, audit.snapshot(instance))
        instance.delete()


class SessionList(JsonApi, generics.ListCreateAPIView):
    """Sessions, the newest day first, 50 a page; replayed days are marked is_replay."""

    permission_classes = [StaffWrites]
    serializer_class = s.SessionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.SessionFilter
    queryset = DailySession.objects.select_related("account").order_by("-date", "account__name", "index_name", "-pk")

    @extend_schema(request=s.SessionCreateSerializer, responses={201: s.SessionSerializer})
    def post(self, request, *args, **kwargs):
        """Create today's session from the defaults."""
        serializer = s.SessionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        today, account = now().astimezone(IST).date(), data["account"]
        try:
            expiry = data.get("expiry") or sessions.default_expiry(data["index_name"], today, lambda: runtime.broker_for(account))
            session = sessions.create(
                account, data["index_name"], today, expiry, data["num_baskets"],
                data.get("margin_unhedged"), data.get("margin_hedged"),
            )
        except DjangoValidationError as invalid:
            raise s.as_drf_error(invalid) from None
        audit.saved(audit.by(request), session, None)
        return Response(s.SessionSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionDetail(JsonApi, generics.RetrieveAPIView):
    """One session, with its settings."""

    serializer_class = s.SessionSerializer
    queryset = DailySession.objects.select_related("account")


class AnalyticsView(JsonApi):
    """Spend, receipts and entries per day over a range (the last 30 days by default), against the
    estimated cost of hedging every basket."""

    @extend_schema(parameters=[s.AnalyticsQuerySerializer], responses=s.AnalyticsSerializer)
    def get(self, request):
        asked = query(s.AnalyticsQuerySerializer, request, today=now().astimezone(IST).date())
        account = asked.get("account")
        summary = analytics.summarise(asked["date_from"], asked["date_to"], asked["include_replays"], account and account.pk)
        session = asked.get("session")
        data = {
            "date_from": summary.date_from,
            "date_to": summary.date_to,
            "days": summary.days,
            "totals": summary.totals(),
            "utilisation": analytics.utilisation_series(session) if session else None,
        }
        return Response(s.AnalyticsSerializer(data).data)


class ForecastView(JsonApi):
    error_patterns = (r"^baskets\.",)

    @extend_schema(
        parameters=[s.ForecastQuerySerializer],
        description="The session's day forecast now, or a what-if: nothing is saved. `baskets.NAME=n` sets a schedule "
                    "row's baskets. Numbers are plain JSON numbers and times HH:MM:SS, as docs/forecast.md describes.",
        responses={200: s.ForecastSerializer, 503: broker_down()},
    )
    def get(self, request):
        params = s.ForecastQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        session = params.validated_data["session"]
        try:
            result = forecast.forecast_for_session(
                session, params.overrides(request.query_params), day=params.validated_data.get("date"),
                broker=runtime.broker_for(session.account),
            )
        except forecast.ForecastError as refused:
            raise s.serializers.ValidationError(params.refusal(refused)) from None
        except (OpenAlgoError, ValueError) as failure:  # ValueError: the account's API key variable is unset
            raise BrokerUnavailable(str(failure)) from None
        return Response(result.detail())


@extend_schema(exclude=True)
class Unknown(APIView):
    """Any other URL under /api/hedge/ (an id that is not a number included): a JSON 404
    after the usual authentication, not Django's HTML page."""

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound()
