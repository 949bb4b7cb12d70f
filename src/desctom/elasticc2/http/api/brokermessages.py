"""``/elasticc2/brokermessage/`` (reference §1.4.5): push brokers PUT classifications; anyone reads them.

* ``PUT`` (group ``elasticc_broker`` or superuser): one brokerClassification record or a list of
  them, checked strictly (:mod:`.brokermessage_validation`), then stored through the same
  idempotent path as the Kafka poller (:func:`desctom.elasticc2.workers.brokerstore.store_messages`).
  A broker account may post only under the broker names bound to it (:mod:`desctom.accounts.queries.brokers`):
  any other ``brokerName`` in the request is a 403 and nothing is stored. Each row records the
  posting account (``postedby_id``).
* ``GET <id>/``: one message. ``GET ?alertid=1,2`` (or ``objectid``/``diaobjectid``,
  ``sourceid``/``diasourceid``; also as the path ``alertid=1,2/``): a page of messages.
"""

from __future__ import annotations

import re

import psycopg
from django.db import connection, transaction

from desctom.accounts.queries.brokers import BROKER_GROUP, may_push, mismatch_message, refused_names
from desctom.core.jsonapi import ApiError, parse_json_body, strict_json_response
from desctom.core.jsonauth import JsonLoginRequiredMixin, json_error
from desctom.core.messagequery import parse_query
from desctom.elasticc2.http.api.brokermessage_contract import BROKERMESSAGE_DOCS
from desctom.elasticc2.http.api.brokermessage_validation import INT64, MessageError, check_body
from desctom.elasticc2.queries.brokermessages import one_message, query_messages
from desctom.elasticc2.workers.brokerstore import (
    REST_TOPIC,
    ClassifierRegistry,
    InvalidMessage,
    MessageBatch,
    store_messages,
)


class BrokerMessageView(JsonLoginRequiredMixin):
    """GET (any logged-in user) and PUT (brokers) ``/elasticc2/brokermessage/[<id>/|<query>/]``."""

    api_doc = BROKERMESSAGE_DOCS  # by URL name

    def get(self, request, info=None):
        try:
            if isinstance(info, int) or (info is not None and re.fullmatch(r"-?\d{1,30}", info)):
                message_id = int(info)
                found = one_message(message_id) if INT64[0] <= message_id <= INT64[1] else None
                if found is None:
                    return json_error(f"No broker message with id {message_id}", 404)
                return strict_json_response(found)
            kind, ids, offset, num = parse_query(info, request.META.get("QUERY_STRING", ""))
            total, page = query_messages(kind, ids, offset, num)
        except ApiError as exc:
            return json_error(exc.message, exc.status)
        return strict_json_response({"offset": offset, "num": num, "totalcount": total,
                                     "count": len(page), "brokermessages": page})

    def put(self, request, info=None):
        if not may_push(request.user):
            name = request.user.get_username()
            return json_error(f"User {name!r} may not PUT broker messages: only members of the group"
                              f" {BROKER_GROUP!r} and superusers may. Ask a TOM administrator "
                              "to add the broker's account to that group.", 403)
        try:
            data = parse_json_body(request, check_text=False)  # check_body names the message and field
            if not request.body.strip():
                raise ApiError("no messages: the request body is empty")
            checked = check_body(data)
        except (ApiError, MessageError) as exc:
            return json_error(exc.message, exc.status)
        refused, allowed = refused_names(request.user, (msg["brokerName"] for msg, _ in checked))
        if refused:
            return json_error(mismatch_message(request.user, refused, allowed), 403)
        batch = MessageBatch()
        for index, (msg, published) in enumerate(checked):
            try:
                batch.add(msg, topic=REST_TOPIC, header_ms=published)
            except InvalidMessage as exc:  # pragma: no cover - check_body catches these first
                return json_error(f"message {index}: {exc}", 400)
        try:
            with transaction.atomic():
                connection.ensure_connection()
                result = store_messages(connection.connection, batch, ClassifierRegistry(),
                                        posted_by=request.user.id)
        except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded) as exc:  # pragma: no cover
            return json_error(f"The messages could not be stored: {exc}", 400)
        first = result.first_id if result.first_id is not None else -1
        response = strict_json_response({"brokerMessageId": first, "num_loaded": result.inserted,
                                         "num_duplicates": result.duplicates}, status=201)
        base = request.build_absolute_uri(request.path)
        response["Location"] = f"{base if base.endswith('/') else base + '/'}{first}"
        return response
