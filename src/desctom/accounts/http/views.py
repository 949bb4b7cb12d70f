"""JSON views about the caller's own account."""

from django.http import JsonResponse

from desctom.accounts.http.contract import WHOAMI_DOC
from desctom.core.jsonauth import JsonLoginRequiredMixin


class WhoAmIView(JsonLoginRequiredMixin):
    """``GET|POST /accounts/whoami/``: the caller's user name, groups and staff flags."""

    api_doc = WHOAMI_DOC

    def get(self, request):
        user = request.user
        return JsonResponse({
            "username": user.get_username(),
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
        })

    post = get
