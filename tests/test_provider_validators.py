"""Target profiles against the providers' own validators, where one ships on PyPI: every order of a few
roles, judged by both."""

import itertools
import json

import pytest

import ftdata

ORDER_RULES = ["P001", "P002", "P003", "P004", "P005", "P006"]  # not P007: ftdata asks for a user turn anyway


def test_mistral_profile_orders_roles_as_mistral_common_does(tmp_path):
    validator_module = pytest.importorskip("mistral_common.protocol.instruct.validator")
    messages = pytest.importorskip("mistral_common.protocol.instruct.messages")
    validator = validator_module.MistralRequestValidator(validator_module.ValidationMode.finetuning)
    make = {"user": messages.UserMessage, "assistant": messages.AssistantMessage, "system": messages.SystemMessage}
    orders = [order for n in range(1, 6) for order in itertools.product(make, repeat=n) if "user" in order]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps({"messages": [{"role": r, "content": f"{r} text"} for r in order]}) + "\n"
                            for order in orders))
    report = ftdata.check([path], ftdata.Config(target="mistral", select=ORDER_RULES))
    refused_by_ftdata = {f.line for f in report.findings if f.severity == "error"}
    disagreements = []
    for line, order in enumerate(orders, 1):
        try:
            validator.validate_messages([make[role](content=f"{role} text") for role in order])
            accepted = True
        except Exception:  # mistral-common raises several exception types for a refused order
            accepted = False
        if accepted == (line in refused_by_ftdata):
            disagreements.append((order, "accepted" if accepted else "refused"))
    assert disagreements == [], disagreements[:5]
