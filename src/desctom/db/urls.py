"""Routes of the SQL API (reference §1.3), plus ``listsqlqueries/`` and ``schema/``."""

from django.urls import path

from desctom.db.http import views

app_name = "db"

urlpatterns = [
    path("runsqlquery/", views.RunSQLQuery.as_view(), name="runsqlquery"),
    path("submitsqlquery/", views.SubmitSQLQuery.as_view(), name="submitsqlquery"),
    path("checksqlquery/<str:queryid>/", views.CheckSQLQuery.as_view(), name="checksqlquery"),
    path("getsqlqueryresults/<str:queryid>/", views.GetSQLQueryResults.as_view(), name="getsqlqueryresults"),
    path("listsqlqueries/", views.ListSQLQueries.as_view(), name="listsqlqueries"),
    path("schema/", views.Schema.as_view(), name="schema"),
]
