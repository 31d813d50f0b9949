from kehu.core import policy


def value_menu(request):
    user = getattr(request, "user", None)
    return {"nav_value": bool(user is not None and policy.may_see_value_dashboard(user))}
