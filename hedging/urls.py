from django.urls import path

from hedging import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("status/panel", views.status_panel, name="status-panel"),
    path("status/plan/<int:pk>", views.plan_panel, name="status-plan"),
    path("toggle", views.toggle, name="toggle"),
    path("manual", views.manual, name="manual"),
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/new", views.schedule_edit, name="schedule-new"),
    path("schedule/<int:pk>/edit", views.schedule_edit, name="schedule-edit"),
    path("schedule/<int:pk>/enabled", views.schedule_enable, name="schedule-enable"),
    path("schedule/<int:pk>/delete", views.schedule_delete, name="schedule-delete"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("transactions/", views.transaction_list, name="transactions"),
    path("transactions.csv", views.transaction_csv, name="transactions-csv"),
    path("analytics/", views.analytics_page, name="analytics"),
]
