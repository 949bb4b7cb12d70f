"""Broker identity (issue 15 item 7): a broker account posts only as the broker names bound to it,
and every stored message records the account that posted it."""

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db import connection
from test_e2_api_brokermessages import message, put, stored_anything
from test_e2_api_data import PASSWORD, assert_error, make_user

from desctom import cli
from desctom.accounts.models import BrokerBinding
from desctom.accounts.queries.brokers import bind


def broker_account(name: str, *names: str) -> User:
    user = make_user(name)
    user.groups.add(Group.objects.get_or_create(name="elasticc_broker")[0])
    bind(user, names)
    return user


def posters() -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute("SELECT m.alert_id, c.brokername, m.postedby_id FROM elasticc2_brokermessage m "
                    "JOIN elasticc2_brokerclassifier c USING (classifier_id) ORDER BY m.alert_id")
        return cur.fetchall()


@pytest.mark.django_db
def test_a_broker_posting_as_another_broker_is_refused_and_nothing_stored(client):
    client.force_login(broker_account("ampel", "AMPEL"))
    body = [message(1, brokerName="AMPEL"), message(2, brokerName="ALeRCE"), message(3, brokerName="Fink")]
    assert_error(put(client, body), 403,
                 "Account 'ampel' may not post messages as brokerName 'ALeRCE', 'Fink': it may post only as "
                 "'AMPEL'. Nothing was stored. A TOM administrator binds an account to a broker name "
                 "(desctom broker_account bind ampel NAME).")
    assert stored_anything() == (0, 0, 0)
    client.force_login(broker_account("newbroker"))  # in the group, bound to nothing yet
    res = put(client, message(4, brokerName="AMPEL"))
    assert res.status_code == 403 and "it is bound to no broker name yet" in res.json()["error"]
    assert stored_anything() == (0, 0, 0)


@pytest.mark.django_db
def test_a_bound_account_posts_and_is_recorded(client):
    ampel = broker_account("ampel", "AMPEL", "AMPEL-test")
    client.force_login(ampel)
    res = put(client, [message(1, brokerName="AMPEL"), message(2, brokerName="AMPEL-test")])
    assert res.status_code == 201, res.content
    boss = User.objects.create_superuser("boss", password=PASSWORD)  # a superuser may post as anyone
    client.force_login(boss)
    assert put(client, message(3, brokerName="Fink")).status_code == 201
    admin = make_user("eadmin")  # elasticc_admin alone may not post
    admin.groups.add(Group.objects.get_or_create(name="elasticc_admin")[0])
    client.force_login(admin)
    assert put(client, message(4, brokerName="Fink")).status_code == 403
    assert posters() == [(1, "AMPEL", ampel.id), (2, "AMPEL-test", ampel.id), (3, "Fink", boss.id)]


@pytest.mark.django_db
def test_the_command_has_the_hyphenated_spelling_of_issue_19(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["broker-account", "add", "--help"])
    assert exited.value.code == 0 and "--password-file F" in capsys.readouterr().out


@pytest.mark.django_db
def test_binding_through_the_command(client, tmp_path):
    pwfile = tmp_path / "pw"
    pwfile.write_text(PASSWORD + "\n")
    out = io.StringIO()
    call_command("broker_account", "add", "fink", "--password-file", str(pwfile), "--broker", "Fink",
                 stdout=out)
    token = out.getvalue().split("API token: ")[1].strip()
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    user = User.objects.get(username="fink")
    assert user.check_password(PASSWORD) and user.groups.filter(name="elasticc_broker").exists()
    res = put(client, message(1, brokerName="Fink"), **auth)
    assert res.status_code == 201, res.content
    assert put(client, message(2, brokerName="ALeRCE"), **auth).status_code == 403
    call_command("broker_account", "bind", "fink", "ALeRCE", "Fink", stdout=io.StringIO())
    assert sorted(BrokerBinding.objects.filter(user=user).values_list("broker_name", flat=True)) == [
        "ALeRCE", "Fink"]
    assert put(client, message(2, brokerName="ALeRCE"), **auth).status_code == 201
    out = io.StringIO()
    call_command("broker_account", "list", stdout=out)
    assert out.getvalue() == "fink\tALeRCE\nfink\tFink\n"
    call_command("broker_account", "unbind", "fink", "ALeRCE", stdout=io.StringIO())
    assert put(client, message(3, brokerName="ALeRCE"), **auth).status_code == 403
    call_command("broker_account", "unbind", "fink", stdout=io.StringIO())
    assert not BrokerBinding.objects.filter(user=user).exists()
    assert [r[2] for r in posters()] == [user.id, user.id]
    with pytest.raises(CommandError, match="no account named 'nobody'"):
        call_command("broker_account", "bind", "nobody", "Fink")
    with pytest.raises(CommandError, match="exists already"):
        call_command("broker_account", "add", "fink")
    (tmp_path / "empty").write_text("")
    with pytest.raises(CommandError, match="is empty"):
        call_command("broker_account", "add", "alerce", "--password-file", str(tmp_path / "empty"))
    out = io.StringIO()
    call_command("broker_account", "add", "alerce", stdout=out)  # no password: token only
    assert not User.objects.get(username="alerce").has_usable_password() and "API token: " in out.getvalue()
