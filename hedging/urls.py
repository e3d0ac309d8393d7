from django.urls import path

from hedging import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
