"""`python -m ftdata.llm.local`: the server lists the model under the name clients are told to use."""

import json
import urllib.request

from ftdata.llm.local import MODEL_NAME


def test_the_models_endpoint_names_the_model(llm_server):
    url, model = llm_server
    assert model == MODEL_NAME
    with urllib.request.urlopen(url + "/models", timeout=30) as reply:
        listed = json.loads(reply.read())
    assert [entry["id"] for entry in listed["data"]] == [MODEL_NAME]
