from django.urls import path, re_path

from hedging.api import views

urlpatterns = [
    path("status", views.StatusView.as_view(), name="api-status"),
    path("toggle", views.ToggleView.as_view(), name="api-toggle"),
    path("manual/buy", views.ManualBuyView.as_view(), name="api-manual-buy"),
    path("manual/exit", views.ManualExitView.as_view(), name="api-manual-exit"),
    path("transactions", views.TransactionList.as_view(), name="api-transactions"),
    path("transactions/<int:pk>", views.TransactionDetail.as_view(), name="api-transaction"),
    path("schedule", views.ScheduleList.as_view(), name="api-schedule"),
    path("schedule/<int:pk>", views.ScheduleDetail.as_view(), name="api-schedule-row"),
    path("analytics", views.AnalyticsView.as_view(), name="api-analytics"),
    path("forecast", views.ForecastView.as_view(), name="api-forecast"),
    path("session", views.SessionList.as_view(), name="api-sessions"),
    path("session/<int:pk>", views.SessionDetail.as_view(), name="api-session"),
    re_path(r"", views.Unknown.as_view(), name="api-unknown"),
]
